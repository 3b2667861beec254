// Agent proposals, the verifier's side (DESIGN.md, "Agent proposals"): made by an agent, with who may
// approve it fixed by policy then (nobody: refused at once), the limits (5 a minute per agent, 20
// pending per approver), decided once by an approver's device with a full approval token over its
// digest (not consumed: the tool consumes it), the token handed to that agent only while no kill
// switch covers it, and every step a decision record under the proposal's trace id. Node only.
import type { AgentIdentity, EnrolledKey, ProposalCreateRequest, ProposalCreated, ProposalDecided, ProposalDecision, ProposalStatus, PendingProposal } from '../lib/protocol';
import {
  ActionRequest,
  CountersignError,
  HttpOrigin,
  MAX_APPROVAL_TTL_SECONDS,
  PROPOSAL_LIMITS,
  PayloadInvalid,
  actionDigest,
  canonicalUrl,
  contentAt,
  newTraceId,
  readBodyFields,
  verifyApprovalToken,
} from '../lib/protocol';
import type { VerifierContext } from './context';
import type { ProposalWakeups } from './proposal-wakeups';
import { readPresented } from './presented-token';
import { agentLookup } from './store/agents';
import { enrolledUsers } from './store/devices';
import { killLookup } from './store/kills';
import { currentOrganisationPolicy } from './store/organisation-policy';
import {
  decideProposal,
  expireDue,
  insertProposal,
  isApprover,
  markHandedOut,
  pendingCounts,
  pendingFor,
  pendingRow,
  proposalById,
  proposalsMadeSince,
  recordStep,
  stateOf,
  stepFacts,
  withCreationLock,
} from './store/proposals';
import type { ProposalRow } from './store/proposals';

const MINUTE_MS = 60_000;
/** How often a long poll re-reads its proposal and its agent key when nothing woke it. */
const REREAD_MS = 1000;

export interface ProposalDeps {
  ctx: VerifierContext;
  wakeups: ProposalWakeups;
}

/** The lifetime of a pending proposal, and of the tokens approving it: the policy TTL in force. */
async function policyTtlSeconds(ctx: VerifierContext): Promise<number> {
  const organisation = (await currentOrganisationPolicy(ctx.database.db)).policy.approvalTtlSeconds;
  return Math.min(organisation ?? ctx.verifyDeps.approvalTtlSeconds, ctx.verifyDeps.approvalTtlSeconds, MAX_APPROVAL_TTL_SECONDS);
}

/** Refused with a decision record under a fresh trace id, which the error carries. */
async function refuseCreation(ctx: VerifierContext, caller: AgentIdentity, digest: string | null, error: CountersignError, now: number): Promise<never> {
  const traceId = newTraceId();
  const facts = { code: error.code, traceId, agent: caller.agentId, approver: null, digest, policyVersion: ctx.policy().version, kid: null };
  await recordStep(ctx.database.db, facts, now).catch(() => undefined);
  throw new CountersignError(error.code, error.message, { cause: error, traceId });
}

export async function createProposal({ ctx }: ProposalDeps, caller: AgentIdentity, body: ProposalCreateRequest): Promise<ProposalCreated> {
  const now = ctx.now();
  const policy = ctx.policy();
  let digest: string;
  let site: string;
  try {
    const url = canonicalUrl(body.request.url);
    const origin = new URL(url).origin;
    if (!HttpOrigin.safeParse(origin).success) throw new PayloadInvalid('an http(s) URL', 'request.url');
    site = origin;
    digest = await actionDigest(body.request);
    // The content field must read as one text from these bytes, as verify will read it.
    if (body.contentField !== undefined) contentAt(await readBodyFields(body.request.contentType, body.request.body), body.contentField);
  } catch (error) {
    if (error instanceof CountersignError) return refuseCreation(ctx, caller, null, error, now);
    throw error;
  }

  // Who may approve it, by the same policy question verify asks: nobody means it is refused now.
  const agent = await agentLookup(ctx.database)(caller.agentId);
  const kills = killLookup(ctx.database);
  const allowed: string[] = [];
  let killed = false;
  for (const user of await enrolledUsers(ctx.database.db)) {
    if (user === caller.agentId) continue;
    if (policy.decide({ sub: user, agt: caller.agentId, scp: body.scope, site, agent }) !== undefined) continue;
    if ((await kills({ sub: user, agt: caller.agentId, scp: body.scope, site })).some((k) => k.engaged)) {
      killed = true;
      continue;
    }
    allowed.push(user);
  }
  const ttl = await policyTtlSeconds(ctx);

  const outcome = await withCreationLock(ctx.database, async (trx) => {
    if ((await proposalsMadeSince(trx, caller.agentId, now - MINUTE_MS)) >= PROPOSAL_LIMITS.perAgentPerMinute) {
      return new CountersignError('rate_limited', `at most ${PROPOSAL_LIMITS.perAgentPerMinute} proposals a minute per agent`);
    }
    if (allowed.length === 0) {
      return killed ? new CountersignError('kill_switch_engaged', 'a kill switch covers this agent, site or everyone who could approve it') : new CountersignError('approver_not_authorized', 'nobody may approve this agent, scope or site');
    }
    const counts = await pendingCounts(trx, allowed, now);
    const approvers = allowed.filter((u) => (counts.get(u) ?? 0) < PROPOSAL_LIMITS.pendingPerApprover);
    if (approvers.length === 0) return new CountersignError('rate_limited', `everyone who may approve this already has ${PROPOSAL_LIMITS.pendingPerApprover} proposals waiting`);
    const row = pendingRow({
      agentId: caller.agentId,
      keyId: caller.keyId,
      scope: body.scope,
      summary: body.summary,
      request: body.request,
      contentField: body.contentField ?? null,
      digest,
      site,
      createdAt: now,
      expiresAt: now + ttl * 1000,
    });
    await insertProposal(trx, row, approvers);
    await recordStep(trx, stepFacts(row, 'proposed', policy.version), now);
    return row;
  });
  if (outcome instanceof CountersignError) return refuseCreation(ctx, caller, digest, outcome, now);
  return { id: outcome.id, state: 'pending', digest: outcome.digest, traceId: outcome.trace_id, expiresAt: Math.floor(outcome.expires_at / 1000) };
}

/** Expires what is due (each with its record); a failure here is retried by the next call or sweep. */
export async function sweepExpired(ctx: VerifierContext): Promise<void> {
  await expireDue(ctx.database.db, ctx.now(), ctx.policy().version);
}

/**
 * The proposal's state for the agent that made it, long-polling up to `waitSeconds` while pending.
 * `currentCaller` re-authenticates on every wake-up: a key revoked mid-wait ends it with 401.
 */
export async function proposalStatus(
  { ctx, wakeups }: ProposalDeps,
  id: string,
  waitSeconds: number,
  currentCaller: () => Promise<AgentIdentity>,
  signal: AbortSignal,
): Promise<ProposalStatus> {
  // The wait is real time, whatever the verifier's clock (which tests set).
  const deadline = performance.now() + waitSeconds * 1000;
  for (;;) {
    const caller = await currentCaller();
    await sweepExpired(ctx);
    const row = await proposalById(ctx.database.db, id);
    // Another agent's proposal is answered as if it did not exist.
    if (!row || row.agent_id !== caller.agentId) throw new CountersignError('not_found', 'no such proposal of this agent');
    const state = stateOf(row);
    if (state === 'approved') return handOut(ctx, row);
    if (state === 'rejected') return { id: row.id, state, reason: row.reason ?? '' };
    if (state === 'expired') return { id: row.id, state };
    const left = deadline - performance.now();
    if (left <= 0 || wakeups.isClosed || signal.aborted) return { id: row.id, state: 'pending' };
    await wakeups.wait(id, Math.min(REREAD_MS, left), signal);
  }
}

/** The approval token, unless a kill switch covers it now or voided it since it was signed. */
async function handOut(ctx: VerifierContext, row: ProposalRow): Promise<ProposalStatus> {
  const now = ctx.now();
  const policy = ctx.policy();
  const token = row.token ?? '';
  const iat = readPresented(token).claims.iat;
  const covering = await killLookup(ctx.database)({ sub: row.decided_by ?? '', agt: row.agent_id, scp: row.scope, site: row.site });
  if (covering.some((k) => k.engaged || (typeof iat === 'number' && iat * 1000 <= k.since))) {
    await recordStep(ctx.database.db, stepFacts(row, 'kill_switch_engaged', policy.version, row.decided_by), now).catch(() => undefined);
    throw new CountersignError('kill_switch_engaged', 'a kill switch covers this approved proposal: its token is not handed out', { traceId: row.trace_id });
  }
  await markHandedOut(ctx.database.db, row, stepFacts(row, 'handed_out', policy.version, row.decided_by), now);
  return { id: row.id, state: 'approved', token };
}

/** The pending proposals this device's user may approve. */
export async function pendingProposals({ ctx }: ProposalDeps, device: EnrolledKey): Promise<PendingProposal[]> {
  await sweepExpired(ctx);
  return pendingFor(ctx.database.db, device.userId, ctx.now(), PROPOSAL_LIMITS.list);
}

/**
 * An approver's decision. Approve: the token must verify as an approval of exactly this proposal
 * (its digest, scope, agent and trace; signed by this device for its user; within the policy TTL;
 * allowed by policy; no kill) and is kept, not consumed. The first decision wins; later ones are
 * `409 already_decided`. Every refusal is a decision record under the proposal's trace.
 */
export async function decide({ ctx, wakeups }: ProposalDeps, device: EnrolledKey, id: string, decision: ProposalDecision): Promise<ProposalDecided> {
  await sweepExpired(ctx);
  const row = await proposalById(ctx.database.db, id);
  if (!row) throw new CountersignError('not_found', 'no such proposal');
  const now = ctx.now();
  const policy = ctx.policy();
  const refuse = async (error: CountersignError): Promise<never> => {
    await recordStep(ctx.database.db, stepFacts(row, error.code, policy.version, device.userId, device.kid), now).catch(() => undefined);
    throw new CountersignError(error.code, error.message, { cause: error, traceId: row.trace_id });
  };
  if (!(await isApprover(ctx.database.db, id, device.userId))) return refuse(new CountersignError('approver_not_authorized', 'this user may not decide this proposal'));
  if (stateOf(row) !== 'pending') return refuse(new CountersignError('already_decided', `the proposal is already ${row.state}`));

  let decided: Parameters<typeof decideProposal>[2];
  if ('approve' in decision) {
    try {
      const request = ActionRequest.parse(JSON.parse(row.request));
      const agent = agentLookup(ctx.database);
      const verified = await verifyApprovalToken(decision.approve, {
        lookupKey: ctx.verifyDeps.lookupKey,
        request,
        scope: row.scope,
        contentField: row.content_field ?? undefined,
        principal: { kind: 'agent', id: row.agent_id },
        now: Math.floor(now / 1000),
        maxTtlSeconds: await policyTtlSeconds(ctx),
        bootEpoch: ctx.verifyDeps.bootEpoch,
        authorize: async (q) => policy.decide({ ...q, agent: await agent(q.agt) }),
        kills: killLookup(ctx.database),
        // Not consumed here: the tool consumes it when the agent sends the request.
      });
      const { claims } = verified;
      if (claims.sub !== device.userId || claims.iss !== device.deviceId || verified.key.kid !== device.kid) {
        throw new CountersignError('action_mismatch', 'the token is not signed by the device deciding');
      }
      if (claims.act.dig !== row.digest || claims.trc !== row.trace_id) throw new CountersignError('action_mismatch', 'the token approves another proposal');
    } catch (error) {
      if (error instanceof CountersignError) return refuse(error);
      throw error;
    }
    decided = { state: 'approved', token: decision.approve, approver: device.userId };
  } else {
    decided = { state: 'rejected', reason: decision.reject.reason, approver: device.userId };
  }
  const won = await decideProposal(ctx.database.db, row, decided, stepFacts(row, decided.state, policy.version, device.userId, device.kid), now);
  if (!won) return refuse(new CountersignError('already_decided', 'another decision came first, or the proposal expired'));
  wakeups.wake(id);
  return { state: decided.state };
}
