// Cedar policy engine: who may approve which agent's action, for what scope, on which site. Node only.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  policySetTextToParts,
  policyToJson,
  preparsePolicySet,
  statefulIsAuthorized,
  validate,
} from '@cedar-policy/cedar-wasm/nodejs';
import type { DetailedError, EntityJson, StatefulAuthorizationCall } from '@cedar-policy/cedar-wasm/nodejs';
import type { ActionFacts, PolicyRefusal } from '../../lib/protocol/approval-token';
import type { PresenceRequirement } from '../../lib/protocol/presence';
import { PayloadInvalid, VerifierUnavailable } from '../../lib/protocol/errors';
import { POLICY_BOT_PREFIX, PolicyBotName, QUORUM_LIMITS, policyBotName } from '../../lib/protocol/quorum';

export interface AgentEntry {
  id: string;
  owner: string;
  scopes: string[];
  /** Origins such as "http://127.0.0.1:8080", or "*" for any site. */
  sites: string[];
}

export interface ApprovalRequest {
  /** The approving user's id. */
  sub: string;
  /** The token's agent: a registered agent id, or `user:<id>` for a person's own request. */
  agt: string;
  /** Scope, e.g. "forum.post". */
  scp: string;
  /** The tool's origin, e.g. "http://127.0.0.1:8080". */
  site: string;
  /** The registry entry for `agt`, when `agt` is a registered agent. */
  agent: AgentEntry | undefined;
  /**
   * What the action is (the request's method, path, query and length in characters of its text):
   * the facts a bot rule judges "low risk" by. A policy bot is never allowed without them.
   */
  facts?: ActionFacts | undefined;
  /** Milliseconds since 1970: a bot rule's `@expires` is judged at this time (default: the clock). */
  now?: number | undefined;
}

export type { ActionFacts };

/** The quorum question: the requester (agent or person) and the action, without an approver. */
export type QuorumRequest = Omit<ApprovalRequest, 'sub' | 'now'>;

export interface PolicySet {
  /** "sha256:" + the first 16 hex digits of SHA-256 of `text`: goes into every receipt as `pol`. */
  version: string;
  text: string;
  /**
   * Undefined when `sub` may approve; otherwise the refusal code. A policy bot (`sub`
   * `policy-bot:<name>`) may approve only through an unexpired rule that names it (`@expires`).
   */
  decide(req: ApprovalRequest): PolicyRefusal | undefined;
  /** For a bot allowed by `decide`: the @id of the first unexpired rule of that bot that matched. */
  botRule(req: ApprovalRequest): string | undefined;
  /** The distinct people this action needs (the largest `@approvers` of the quorum rules that match; 1 when none). */
  quorum(req: QuorumRequest): number;
  /** `uv` when a presence rule (`@presence("uv")`) matches the action: each approval must carry a user-verified assertion. */
  presence(req: QuorumRequest): PresenceRequirement;
  /** The bots that have a rule in this policy, expired or not, in order of first appearance. */
  bots: readonly string[];
}

/**
 * The shape every policy text is validated against (Cedar strict mode), so that a typo such as
 * `resource.ownr` is refused when the policy is loaded instead of making a forbid silently never
 * match (Cedar skips a policy whose evaluation errors).
 */
export const POLICY_SCHEMA = `
entity User;
entity Bot;
entity Agent { owner: User, scopes: Set<String>, sites: Set<String> };
type ActionContext = {
  sub: String, agt: String, scope: String, site: String,
  method: String, path: String, query: String, chars: Long
};
action approve appliesTo {
  principal: [User, Bot],
  resource: [Agent, User],
  context: ActionContext
};
action quorum appliesTo {
  principal: [Agent, User],
  resource: [Agent, User],
  context: ActionContext
};
action presence appliesTo {
  principal: [Agent, User],
  resource: [Agent, User],
  context: ActionContext
};
`;

/** A person's own request carries `agt` = this prefix + their user id (see principalAgentId). */
const USER_AGENT_PREFIX = 'user:';

/**
 * When several coded forbids determine a denial the most specific wins, whatever order Cedar
 * lists them in: a blocked site is a fact about the site that no other approver could overcome,
 * so it is reported before self-approval, and both before the generic refusal.
 */
const REFUSAL_PRECEDENCE: readonly PolicyRefusal[] = ['site_blocked', 'self_approval', 'approver_not_authorized'];

const REFUSALS: ReadonlySet<string> = new Set(REFUSAL_PRECEDENCE);

/** In a `u` regex a surrogate pair is one code point, so this matches only unpaired halves. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Far above any real policy; keeps a hostile admin upload from tying up the parser. */
const MAX_POLICY_CHARS = 256 * 1024;

interface CompiledPolicy {
  effect: 'permit' | 'forbid';
  /** Its conditions may read the action's facts (method, path, query, chars), or the whole context. */
  readsFacts: boolean;
  /** For forbids: the refusal it stands for (`@code`), approver_not_authorized when it has none. */
  refusal: PolicyRefusal;
  /** A bot rule: the bot it names and when it stops counting (ms). */
  bot?: { name: string; expires: number };
  /** A quorum rule: the distinct approvers it requires. */
  approvers?: number;
  /** A presence rule: what it asks of every approval. */
  presence?: 'uv';
}

/** Strict ISO 8601 UTC instants, e.g. 2027-01-01T00:00:00Z: an expiry nobody can misread. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

type PolicyJsonOf = Extract<ReturnType<typeof policyToJson>, { type: 'success' }>['json'];

function constraintEntity(c: { op: string } & Partial<{ entity: unknown }>): { type: string; id: string } | undefined {
  if (c.op !== '==' || c.entity === undefined || c.entity === null || typeof c.entity !== 'object') return undefined;
  const e = c.entity as { __entity?: { type: string; id: string }; type?: string; id?: string };
  const uid = e.__entity ?? e;
  return typeof uid.type === 'string' && typeof uid.id === 'string' ? { type: uid.type, id: uid.id } : undefined;
}

/** A context read other than `context.sub|agt|scope|site`: the rule may depend on the action's facts (fail safe: a whole-context use counts). */
function readsFacts(json: PolicyJsonOf): boolean {
  const text = JSON.stringify(json.conditions);
  const uses = text.split('{"Var":"context"}').length - 1;
  const plain = text.match(/\{"Var":"context"\},"attr":"(?:sub|agt|scope|site)"/g)?.length ?? 0;
  return uses > plain;
}

/** The annotations that make a permit a bot rule or a quorum rule, checked against what the permit says. */
function ruleAnnotations(id: string, json: PolicyJsonOf, annotations: Record<string, string>): Pick<CompiledPolicy, 'bot' | 'approvers' | 'presence'> {
  const where = `policy ${JSON.stringify(id)}`;
  const principal = constraintEntity(json.principal as { op: string });
  const action = constraintEntity(json.action as { op: string });
  const namesBot = principal?.type === 'Bot' || (json.principal.op === 'is' && (json.principal as { entity_type?: string }).entity_type === 'Bot');
  const out: Pick<CompiledPolicy, 'bot' | 'approvers' | 'presence'> = {};
  if (Object.hasOwn(annotations, 'expires') || namesBot) {
    if (json.effect !== 'permit' || principal?.type !== 'Bot' || action?.id !== 'approve') {
      throw new PayloadInvalid(`${where}: a bot rule is a permit for one named bot, principal == Bot::"<name>", action == Action::"approve", with @expires`, 'policy');
    }
    if (!PolicyBotName.safeParse(principal.id).success) throw new PayloadInvalid(`${where}: a bot's name is lower-case letters, digits, . _ - (at most 63)`, 'policy');
    const expires = annotations.expires;
    if (expires === undefined) throw new PayloadInvalid(`${where}: a bot rule needs @expires("YYYY-MM-DDTHH:MM:SSZ")`, 'policy');
    const at = ISO_INSTANT.test(expires) ? Date.parse(expires) : Number.NaN;
    if (!Number.isFinite(at)) throw new PayloadInvalid(`${where}: @expires must be a UTC instant such as "2027-01-01T00:00:00Z"`, 'policy');
    out.bot = { name: principal.id, expires: at };
  }
  if (Object.hasOwn(annotations, 'approvers') || action?.id === 'quorum') {
    if (json.effect !== 'permit' || action?.id !== 'quorum') {
      throw new PayloadInvalid(`${where}: @approvers belongs on a permit for action == Action::"quorum"`, 'policy');
    }
    const k = annotations.approvers;
    if (k === undefined || !/^[1-9]$/.test(k) || Number(k) > QUORUM_LIMITS.maxApprovers) {
      throw new PayloadInvalid(`${where}: a quorum rule needs @approvers("2".."${QUORUM_LIMITS.maxApprovers}")`, 'policy');
    }
    out.approvers = Number(k);
  }
  if (Object.hasOwn(annotations, 'presence') || action?.id === 'presence') {
    if (json.effect !== 'permit' || action?.id !== 'presence') {
      throw new PayloadInvalid(`${where}: @presence belongs on a permit for action == Action::"presence"`, 'policy');
    }
    if (annotations.presence !== 'uv') throw new PayloadInvalid(`${where}: a presence rule needs @presence("uv")`, 'policy');
    out.presence = 'uv';
  }
  return out;
}

export function compilePolicy(text: string): PolicySet {
  if (typeof text !== 'string') throw new PayloadInvalid('must be Cedar policy text', 'policy');
  if (text.length > MAX_POLICY_CHARS) throw new PayloadInvalid(`longer than ${MAX_POLICY_CHARS} characters`, 'policy');
  // wasm-bindgen refuses lone surrogates with an exception; say so plainly instead.
  if (LONE_SURROGATE.test(text)) throw new PayloadInvalid('is not well-formed Unicode', 'policy');

  const parts = policySetTextToParts(text);
  if (parts.type === 'failure') throw new PayloadInvalid(describeErrors(parts.errors, text), 'policy');
  if (parts.policy_templates.length > 0) throw new PayloadInvalid('templates are not supported', 'policy');
  if (parts.policies.length === 0) throw new PayloadInvalid('has no policies (nothing could ever be approved)', 'policy');

  // Cedar names policies from text "policy0", "policy1"…, ignoring @id; we name them ourselves so
  // that diagnostics, validation messages and the @code map all speak of the admin's @id.
  const compiled = new Map<string, CompiledPolicy>();
  const entries: [string, string][] = [];
  parts.policies.forEach((policyText, index) => {
    const json = policyToJson(policyText);
    if (json.type === 'failure') throw new PayloadInvalid(describeErrors(json.errors), 'policy');
    const annotations = json.json.annotations ?? {};
    const id = Object.hasOwn(annotations, 'id') ? annotations.id! : `policy${index}`;
    if (compiled.has(id)) throw new PayloadInvalid(`two policies have the id ${JSON.stringify(id)}`, 'policy');
    let refusal: PolicyRefusal = 'approver_not_authorized';
    if (Object.hasOwn(annotations, 'code')) {
      const code = annotations.code!;
      if (json.json.effect !== 'forbid') {
        throw new PayloadInvalid(`policy ${JSON.stringify(id)}: @code belongs on a forbid`, 'policy');
      }
      if (!REFUSALS.has(code)) {
        throw new PayloadInvalid(`policy ${JSON.stringify(id)}: @code must be one of ${REFUSAL_PRECEDENCE.join(', ')}`, 'policy');
      }
      refusal = code as PolicyRefusal;
    }
    compiled.set(id, { effect: json.json.effect, refusal, readsFacts: readsFacts(json.json), ...ruleAnnotations(id, json.json, annotations) });
    entries.push([id, policyText]);
  });
  // fromEntries defines own properties, so even @id("__proto__") stays a policy.
  const staticPolicies: Record<string, string> = Object.fromEntries(entries);

  const validation = validate({ schema: POLICY_SCHEMA, policies: { staticPolicies }, validationSettings: { mode: 'strict' } });
  if (validation.type === 'failure') throw new PayloadInvalid(describeErrors(validation.errors), 'policy');
  if (validation.validationErrors.length > 0) {
    // Cedar's validation messages already name the policy by the id we gave it.
    throw new PayloadInvalid(describeErrors(validation.validationErrors.map((e) => e.error)), 'policy');
  }

  const digest = createHash('sha256').update(text, 'utf8').digest('hex');
  // The wasm side caches parsed sets per thread with no way to evict: keying by the full digest
  // makes a recompile of the same text idempotent and bounds the cache by distinct texts.
  const setId = `countersign:${digest}`;
  const preparsed = preparsePolicySet(setId, { staticPolicies });
  if (preparsed.type === 'failure') throw new PayloadInvalid(describeErrors(preparsed.errors), 'policy');
  // The quorum rules are asked on their own: which of them match, forbids or not (a forbid must not
  // lower what an action needs), so only they are in this set.
  const quorumEntries = entries.filter(([id]) => compiled.get(id)?.approvers !== undefined);
  const quorumSetId = `${setId}:quorum`;
  if (quorumEntries.length > 0) {
    const quorumSet = preparsePolicySet(quorumSetId, { staticPolicies: Object.fromEntries(quorumEntries) });
    if (quorumSet.type === 'failure') throw new PayloadInvalid(describeErrors(quorumSet.errors), 'policy');
  }
  // Presence rules likewise: which of them match, whatever the forbids say.
  const presenceEntries = entries.filter(([id]) => compiled.get(id)?.presence !== undefined);
  const presenceSetId = `${setId}:presence`;
  if (presenceEntries.length > 0) {
    const presenceSet = preparsePolicySet(presenceSetId, { staticPolicies: Object.fromEntries(presenceEntries) });
    if (presenceSet.type === 'failure') throw new PayloadInvalid(describeErrors(presenceSet.errors), 'policy');
  }
  const bots = [...new Set([...compiled.values()].flatMap((p) => (p.bot ? [p.bot.name] : [])))];

  // Facts are in a remembered answer's key only where some rule reads them: otherwise every distinct
  // request (path, length) would be a new key and a new Cedar evaluation on verify's hot path.
  const factsMatter = (ids: readonly string[]) => ids.some((id) => compiled.get(id)?.readsFacts);
  const evaluateApproval = memoised(factsMatter(entries.map(([id]) => id)), (req) => evaluate(setId, compiled, authorizationCall(setId, 'approve', req)));
  const evaluateQuorum = memoised(factsMatter(quorumEntries.map(([id]) => id)), (req) => evaluate(quorumSetId, compiled, authorizationCall(quorumSetId, 'quorum', req)));
  const evaluatePresence = memoised(factsMatter(presenceEntries.map(([id]) => id)), (req) => evaluate(presenceSetId, compiled, authorizationCall(presenceSetId, 'presence', req)));
  const botRule = (req: ApprovalRequest): string | undefined => {
    const name = policyBotName(req.sub);
    if (name === null || req.facts === undefined) return undefined;
    const answer = evaluateApproval(req);
    if (answer.refusal !== undefined) return undefined;
    const now = req.now ?? Date.now();
    return answer.permits.find((id) => {
      const bot = compiled.get(id)?.bot;
      return bot !== undefined && bot.name === name && now < bot.expires;
    });
  };

  return {
    version: `sha256:${digest.slice(0, 16)}`,
    text,
    bots,
    decide(req) {
      if (req.sub.startsWith(POLICY_BOT_PREFIX)) return botRule(req) === undefined ? (evaluateApproval(req).refusal ?? 'approver_not_authorized') : undefined;
      return evaluateApproval(req).refusal;
    },
    botRule,
    quorum(req) {
      if (quorumEntries.length === 0) return 1;
      const answer = evaluateQuorum({ ...req, sub: req.agt });
      let k = 1;
      for (const id of answer.matched) k = Math.max(k, compiled.get(id)?.approvers ?? 1);
      return k;
    },
    presence(req) {
      if (presenceEntries.length === 0) return 'none';
      // A rule that matched or could not be evaluated asks for presence (fail closed).
      return evaluatePresence({ ...req, sub: req.agt }).matched.length > 0 ? 'uv' : 'none';
    },
  };
}

/** One evaluated question: the refusal (undefined when allowed), the permits that allowed it, and every rule that matched or errored. */
interface Evaluation {
  refusal: PolicyRefusal | undefined;
  permits: readonly string[];
  /** Policies that matched (reason) or could not be evaluated (counted as matching: fail closed). */
  matched: readonly string[];
}

/** Distinct questions remembered per policy set; past it the memo starts afresh. */
const MAX_MEMOISED_DECISIONS = 10_000;

/**
 * A policy set's answers are a pure function of the question and the agent's registry entry, both
 * part of the key, so each distinct one is evaluated by Cedar once per policy version: a new policy
 * is a new PolicySet with an empty memo, and a changed registration is a different key. Failures
 * (VerifierUnavailable) throw and are not remembered.
 */
function memoised(factsMatter: boolean, evaluateOnce: (req: ApprovalRequest) => Evaluation): (req: ApprovalRequest) => Evaluation {
  const answers = new Map<string, Evaluation>();
  return (req) => {
    const { sub, agt, scp, site, agent, facts } = req;
    const key = JSON.stringify([sub, agt, scp, site, agent ? [agent.id, agent.owner, agent.scopes, agent.sites] : null, factsMatter && facts ? [facts.method, facts.path, facts.query, facts.chars] : null]);
    const known = answers.get(key);
    if (known !== undefined) return known;
    const answer = evaluateOnce(req);
    if (answers.size >= MAX_MEMOISED_DECISIONS) answers.clear();
    answers.set(key, answer);
    return answer;
  };
}

/** The default policy text shipped beside this module. */
export function defaultPolicyText(): string {
  return readFileSync(new URL('./default.cedar', import.meta.url), 'utf8');
}

function evaluate(setId: string, compiled: ReadonlyMap<string, CompiledPolicy>, call: StatefulAuthorizationCall | undefined): Evaluation {
  // Unrepresentable input (a lone surrogate would make wasm-bindgen throw, or two distinct ids
  // collapse into one) is refused, never approved.
  if (!call) return { refusal: 'approver_not_authorized', permits: [], matched: [] };

  let answer: ReturnType<typeof statefulIsAuthorized>;
  try {
    answer = statefulIsAuthorized(call);
  } catch (e) {
    throw new VerifierUnavailable('policy evaluation failed', { cause: e });
  }
  if (answer.type === 'failure') {
    throw new VerifierUnavailable(`policy evaluation failed: ${describeErrors(answer.errors)}`);
  }

  const { decision, diagnostics } = answer.response;
  const matched = [...diagnostics.reason, ...diagnostics.errors.map((e) => e.policyId)];
  const determining = new Set<string>();
  if (decision === 'deny') for (const id of diagnostics.reason) determining.add(id);
  // Cedar skips a policy whose evaluation errors; a forbid we could not evaluate counts as
  // matching (fail closed). Validation makes this rare: only a missing entity gets here.
  for (const { policyId } of diagnostics.errors) if (compiled.get(policyId)?.effect === 'forbid') determining.add(policyId);

  if (decision === 'allow' && determining.size === 0) return { refusal: undefined, permits: diagnostics.reason, matched };
  const refusals = new Set<PolicyRefusal>();
  for (const id of determining) {
    const policy = compiled.get(id);
    if (policy?.effect === 'forbid') refusals.add(policy.refusal);
  }
  // No forbid: no permit matched (not the owner, scope or site not registered, unknown agent).
  return { refusal: REFUSAL_PRECEDENCE.find((code) => refusals.has(code)) ?? 'approver_not_authorized', permits: [], matched };
}

/** The Cedar request as JSON data: ids travel as values, never spliced into policy text. */
function authorizationCall(setId: string, action: 'approve' | 'quorum' | 'presence', req: ApprovalRequest): StatefulAuthorizationCall | undefined {
  const { sub, agt, scp, site } = req;
  const facts = req.facts ?? { method: '', path: '', query: '', chars: 0 };
  const strings = [sub, agt, scp, site, facts.method, facts.path, facts.query];
  if (!Number.isSafeInteger(facts.chars) || facts.chars < 0) return undefined;
  const isPerson = agt.startsWith(USER_AGENT_PREFIX);
  // An entry for another id is a caller's mistake; treat the agent as unregistered (deny).
  const agent = !isPerson && req.agent?.id === agt ? req.agent : undefined;
  if (agent) strings.push(agent.owner, ...agent.scopes, ...agent.sites);
  if (!strings.every((s) => typeof s === 'string' && !LONE_SURROGATE.test(s))) return undefined;

  const entities: EntityJson[] = [];
  if (agent) {
    entities.push({
      uid: { type: 'Agent', id: agt },
      attrs: { owner: { __entity: { type: 'User', id: agent.owner } }, scopes: [...agent.scopes], sites: [...agent.sites] },
      parents: [],
    });
  }
  // An unregistered agent has no entity: the owner permit then errors on `resource.owner`, which
  // Cedar treats as not matching, so the answer is approver_not_authorized.
  const requester = isPerson ? { type: 'User', id: agt.slice(USER_AGENT_PREFIX.length) } : { type: 'Agent', id: agt };
  const bot = policyBotName(sub);
  // The quorum and presence questions' principal is the requester itself; an approval's is the person, or the bot.
  const principal = action !== 'approve' ? requester : bot !== null ? { type: 'Bot', id: bot } : { type: 'User', id: sub };
  return {
    principal,
    action: { type: 'Action', id: action },
    resource: requester,
    context: { sub, agt, scope: scp, site, ...facts },
    preparsedPolicySetId: setId,
    entities,
  };
}

function describeErrors(errors: readonly DetailedError[], text?: string): string {
  return errors.length ? errors.map((e) => describeError(e, text)).join('; ') : 'Cedar gave no reason';
}

/** Cedar's message and help, with a line:column when we have the text the offset points into. */
function describeError(error: DetailedError, text?: string): string {
  let out = error.message;
  const at = error.sourceLocations?.[0];
  if (at && text !== undefined) {
    const before = text.slice(0, at.start);
    const line = before.split('\n').length;
    const column = at.start - before.lastIndexOf('\n');
    out += ` at line ${line}, column ${column}${at.label ? ` (${at.label})` : ''}`;
  }
  if (error.help) out += ` (${error.help})`;
  return out;
}
