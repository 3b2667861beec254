// Agent proposals, the verifier's side (DESIGN.md, "Agent proposals"): made by an agent, with who may
// approve it fixed by policy then (nobody: refused at once), the limits (5 a minute per agent, 20
// pending per approver), decided once by an approver's device with a full approval token over its
// digest (not consumed: the tool consumes it), the token handed to that agent only while no kill
// switch covers it, and every step a decision record under the proposal's trace id. Node only.
import type {
  AgentIdentity,
  ApprovalClaims,
  EnrolledKey,
  HeldActionPublication,
  ProposalCreateRequest,
  ProposalCreated,
  ProposalDecided,
  ProposalDecision,
  ProposalStatus,
  PendingProposal,
  Principal,
} from '../lib/protocol';
import { ActionRequest, CountersignError, PROPOSAL_LIMITS, newTraceId, verifyApprovalToken } from '../lib/protocol';
import { readPresented } from './presented-token';
import type { VerifierContext } from './context';
import type { AgentEntry } from './policy/engine';
import { botApproval, policyTtlSeconds } from './policy-bots';
import { presenceGate } from './presence-gate';
import { readProposedAction } from './proposal-action';
import type { ProposedAction } from './proposal-action';
import type { ProposalWakeups } from './proposal-wakeups';
import { agentLookup } from './store/agents';
import { isConsumed } from './store/decisions';
import { enrolledUsers } from './store/devices';
import { killLookup } from './store/kills';
import {
  approvalsOf,
  approveAtOnce,
  expireDue,
  insertProposal,
  isApprover,
  markHandedOut,
  pendingFor,
  pendingRow,
  proposalById,
  proposalsMadeSince,
  publishedByTrace,
  recordApproval,
  recordStep,
  rejectProposal,
  stateOf,
  stepFacts,
  withCreationLock,
  withRoom,
} from './store/proposals';
import type { ProposalRow } from './store/proposals';

const MINUTE_MS = 60_000;
/** How often a long poll re-reads its proposal and its agent key when nothing woke it. */
const REREAD_MS = 1000;

export interface ProposalDeps {
  ctx: VerifierContext;
  wakeups: ProposalWakeups;
}

/** Refused with a decision record under a fresh trace id, which the error carries. */
async function refuseCreation(ctx: VerifierContext, agentId: string, digest: string | null, error: CountersignError, now: number, traceId = newTraceId()): Promise<never> {
  const facts = { code: error.code, traceId, agent: agentId, approver: null, digest, policyVersion: ctx.policy().version, kid: null };
  await recordStep(ctx.database.db, facts, now).catch(() => undefined);
  throw new CountersignError(error.code, error.message, { cause: error, traceId });
}

/**
 * The people policy lets approve this action — by the same question verify asks, over every user
 * with an enrolled device — less those a kill switch covers (`killed` says some were) and `exclude`.
 */
async function approversFor(ctx: VerifierContext, q: { agentId: string; agent: AgentEntry | undefined; scope: string; action: ProposedAction; exclude: readonly string[] }) {
  const policy = ctx.policy();
  const kills = killLookup(ctx.database);
  const allowed: string[] = [];
  let killed = false;
  for (const user of await enrolledUsers(ctx.database.db)) {
    if (user === q.agentId || q.exclude.includes(user)) continue;
    if (policy.decide({ sub: user, agt: q.agentId, scp: q.scope, site: q.action.site, agent: q.agent, facts: q.action.facts }) !== undefined) continue;
    if ((await kills({ sub: user, agt: q.agentId, scp: q.scope, site: q.action.site })).some((k) => k.engaged)) {
      killed = true;
      continue;
    }
    allowed.push(user);
  }
  return { allowed, killed };
}

function nobodyMayApprove(killed: boolean, needed: number, found: number): CountersignError {
  if (killed && found === 0) return new CountersignError('kill_switch_engaged', 'a kill switch covers this agent, site or everyone who could approve it');
  if (needed > 1) return new CountersignError('approver_not_authorized', `policy requires ${needed} distinct approvers; only ${found} may approve this`);
  return new CountersignError('approver_not_authorized', 'nobody may approve this agent, scope or site');
}

function created(row: ProposalRow): ProposalCreated {
  return { id: row.id, state: stateOf(row) === 'approved' ? 'approved' : 'pending', quorum: Number(row.quorum), digest: row.digest, traceId: row.trace_id, expiresAt: Math.floor(Number(row.expires_at) / 1000) };
}

export async function createProposal({ ctx }: ProposalDeps, caller: AgentIdentity, body: ProposalCreateRequest): Promise<ProposalCreated> {
  const now = ctx.now();
  const policy = ctx.policy();
  let action: ProposedAction;
  try {
    action = await readProposedAction(body.request, body.contentField);
  } catch (error) {
    if (error instanceof CountersignError) return refuseCreation(ctx, caller.agentId, null, error, now);
    throw error;
  }

  const agent = await agentLookup(ctx.database)(caller.agentId);
  const quorum = policy.quorum({ agt: caller.agentId, scp: body.scope, site: action.site, agent, facts: action.facts });
  const traceId = newTraceId();
  // A bot approves only where one approver is enough; a quorum is people.
  const bot = quorum === 1 ? await botApproval(ctx, { request: body.request, action, agentId: caller.agentId, agent, scope: body.scope, traceId }) : undefined;
  const { allowed, killed } = bot ? { allowed: [], killed: false } : await approversFor(ctx, { agentId: caller.agentId, agent, scope: body.scope, action, exclude: [] });
  const ttl = await policyTtlSeconds(ctx);

  const outcome = await withCreationLock(ctx.database, async (trx) => {
    if ((await proposalsMadeSince(trx, caller.agentId, now - MINUTE_MS)) >= PROPOSAL_LIMITS.perAgentPerMinute) {
      return new CountersignError('rate_limited', `at most ${PROPOSAL_LIMITS.perAgentPerMinute} proposals a minute per agent`);
    }
    if (!bot && allowed.length < quorum) return nobodyMayApprove(killed, quorum, allowed.length);
    const approvers = await withRoom(trx, allowed, now);
    if (!bot && approvers.length < quorum) return new CountersignError('rate_limited', `everyone who may approve this already has ${PROPOSAL_LIMITS.pendingPerApprover} proposals waiting`);
    const row = pendingRow({
      agentId: caller.agentId,
      keyId: caller.keyId,
      scope: body.scope,
      summary: body.summary,
      request: body.request,
      contentField: body.contentField ?? null,
      digest: action.digest,
      site: action.site,
      createdAt: now,
      expiresAt: now + ttl * 1000,
      quorum,
      traceId,
    });
    await insertProposal(trx, row, approvers);
    await recordStep(trx, stepFacts(row, 'proposed', policy.version), now);
    if (bot) {
      await approveAtOnce(trx, row, { user_id: bot.id, device_id: bot.id, kid: bot.kid, token: bot.token }, { ...stepFacts(row, 'approved', policy.version, bot.id, bot.kid), rule: bot.rule }, now);
      row.state = 'approved';
    }
    return row;
  });
  if (outcome instanceof CountersignError) return refuseCreation(ctx, caller.agentId, action.digest, outcome, now, traceId);
  return created(outcome);
}

/**
 * A held in-page action whose policy needs more than one approver, published by its first
 * approver's device with that person's token (verified in full, not consumed; signed by this
 * device), so the others policy allows see it in their popups. The proposal lives no longer than
 * that token. Publishing the same action again (a retry) answers the proposal already made.
 */
export async function publishHeld({ ctx }: ProposalDeps, device: EnrolledKey, body: HeldActionPublication): Promise<ProposalCreated> {
  const now = ctx.now();
  const policy = ctx.policy();
  const action = await readProposedAction(body.request, body.contentField);
  const claims = await verifyDeciderToken(ctx, device, body.approve, { request: body.request, scope: body.scope, contentField: body.contentField, principal: undefined });
  const refuse = (error: CountersignError) => refuseCreation(ctx, claims.agt, action.digest, error, now, claims.trc);
  if (claims.act.dig !== action.digest) return refuse(new CountersignError('action_mismatch', 'the token approves another request'));
  const existing = await publishedByTrace(ctx.database.db, claims.trc, device.userId);
  if (existing && existing.digest === action.digest) return created(existing);
  if (existing) return refuse(new CountersignError('action_mismatch', 'this trace id was published with another request'));

  const agent = await agentLookup(ctx.database)(claims.agt);
  const quorum = policy.quorum({ agt: claims.agt, scp: body.scope, site: action.site, agent, facts: action.facts });
  const { allowed, killed } = await approversFor(ctx, { agentId: claims.agt, agent, scope: body.scope, action, exclude: [device.userId] });
  const ttl = await policyTtlSeconds(ctx);
  const outcome = await withCreationLock(ctx.database, async (trx) => {
    if (allowed.length < quorum - 1) return nobodyMayApprove(killed, quorum, allowed.length + 1);
    const approvers = await withRoom(trx, allowed, now);
    if (approvers.length < quorum - 1) return new CountersignError('rate_limited', `everyone else who may approve this already has ${PROPOSAL_LIMITS.pendingPerApprover} proposals waiting`);
    const row = pendingRow({
      agentId: claims.agt,
      keyId: `device:${device.kid}`,
      scope: body.scope,
      summary: body.summary,
      request: body.request,
      contentField: body.contentField ?? null,
      digest: action.digest,
      site: action.site,
      createdAt: now,
      expiresAt: Math.min(now + ttl * 1000, claims.exp * 1000),
      quorum,
      traceId: claims.trc,
      publishedBy: { userId: device.userId, deviceId: device.deviceId },
    });
    await insertProposal(trx, row, approvers);
    await recordStep(trx, stepFacts(row, 'proposed', policy.version, device.userId, device.kid), now);
    return row;
  });
  if (outcome instanceof CountersignError) return refuse(outcome);
  // The publisher's own approval is the first; with a quorum of one it is all it needs.
  await recordApproval(ctx.database, outcome, { user_id: device.userId, device_id: device.deviceId, kid: device.kid, token: body.approve }, stepFacts(outcome, 'approved', policy.version, device.userId, device.kid), now);
  return created((await proposalById(ctx.database.db, outcome.id)) ?? outcome);
}

/** Expires what is due (each with its record); a failure here is retried by the next call or sweep. */
export async function sweepExpired(ctx: VerifierContext): Promise<void> {
  await expireDue(ctx.database.db, ctx.now(), ctx.policy().version);
}

/** Who asks for a proposal's state: the agent that made it, or the device that published a held action. */
export type StatusCaller = { kind: 'agent'; identity: AgentIdentity } | { kind: 'device'; device: EnrolledKey };

function owns(caller: StatusCaller, row: ProposalRow): boolean {
  if (caller.kind === 'agent') return row.published_by === null && row.agent_id === caller.identity.agentId;
  return row.published_by === caller.device.userId && row.publisher_device === caller.device.deviceId;
}

/**
 * The proposal's state for its agent (or publishing device), long-polling up to `waitSeconds` while
 * pending. `currentCaller` re-authenticates on every wake-up: a key revoked mid-wait ends it with 401.
 */
export async function proposalStatus(
  { ctx, wakeups }: ProposalDeps,
  id: string,
  waitSeconds: number,
  currentCaller: () => Promise<StatusCaller>,
  signal: AbortSignal,
): Promise<ProposalStatus> {
  // The wait is real time, whatever the verifier's clock (which tests set).
  const deadline = performance.now() + waitSeconds * 1000;
  for (;;) {
    const caller = await currentCaller();
    await sweepExpired(ctx);
    const row = await proposalById(ctx.database.db, id);
    // Another agent's proposal is answered as if it did not exist.
    if (!row || !owns(caller, row)) throw new CountersignError('not_found', 'no such proposal of this caller');
    const state = stateOf(row);
    if (state === 'approved') return handOut(ctx, row);
    if (state === 'rejected') return { id: row.id, state, reason: row.reason ?? '' };
    if (state === 'expired') return { id: row.id, state };
    const left = deadline - performance.now();
    if (left <= 0 || wakeups.isClosed || signal.aborted) return { id: row.id, state: 'pending' };
    await wakeups.wait(id, Math.min(REREAD_MS, left), signal);
  }
}

/** Every approval token, unless a kill switch covers one of them now or voided it since it was signed. */
async function handOut(ctx: VerifierContext, row: ProposalRow): Promise<ProposalStatus> {
  const now = ctx.now();
  const policy = ctx.policy();
  const approvals = (await approvalsOf(ctx.database.db, [row.id])).get(row.id) ?? [];
  // Proposals approved before approvals were kept one by one have their token on the row only.
  const granted = approvals.length > 0 ? approvals : row.token !== null ? [{ user_id: row.decided_by ?? '', token: row.token }] : [];
  const kills = killLookup(ctx.database);
  for (const approval of granted) {
    const iat = readPresented(approval.token).claims.iat;
    const covering = await kills({ sub: approval.user_id, agt: row.agent_id, scp: row.scope, site: row.site });
    if (covering.some((k) => k.engaged || (typeof iat === 'number' && iat * 1000 <= k.since))) {
      await recordStep(ctx.database.db, stepFacts(row, 'kill_switch_engaged', policy.version, approval.user_id), now).catch(() => undefined);
      throw new CountersignError('kill_switch_engaged', 'a kill switch covers this approved proposal: its token is not handed out', { traceId: row.trace_id });
    }
  }
  await markHandedOut(ctx.database.db, row, stepFacts(row, 'handed_out', policy.version, row.decided_by), now);
  const tokens = granted.map((a) => a.token);
  return { id: row.id, state: 'approved', token: tokens[0]!, tokens, approvers: granted.map((a) => a.user_id) };
}

/** The pending proposals this device's user may approve and has not approved yet. */
export async function pendingProposals({ ctx }: ProposalDeps, device: EnrolledKey): Promise<PendingProposal[]> {
  await sweepExpired(ctx);
  const views = await pendingFor(ctx.database.db, device.userId, ctx.now(), PROPOSAL_LIMITS.list);
  // What the approver's popup must ask for is what the policy in force asks now: verify asks the same.
  const policy = ctx.policy();
  const agents = agentLookup(ctx.database);
  return Promise.all(
    views.map(async (view) => {
      const action = await readProposedAction(view.request, view.contentField);
      const presence = policy.presence({ agt: view.agent, scp: view.scope, site: action.site, agent: await agents(view.agent), facts: action.facts });
      return { ...view, presence };
    }),
  );
}

/**
 * Verifies `token` as an approval of exactly `request` on its route, signed by this device for its
 * user, in full as verify would (policy, kills, TTL), without consuming it: the tool consumes it.
 */
async function verifyDeciderToken(
  ctx: VerifierContext,
  device: EnrolledKey,
  token: string,
  on: { request: ActionRequest; scope: string; contentField: string | undefined; principal: Principal | undefined; coSigned?: boolean },
): Promise<ApprovalClaims> {
  const policy = ctx.policy();
  const now = ctx.now();
  const agent = agentLookup(ctx.database);
  const verified = await verifyApprovalToken(token, {
    lookupKey: ctx.verifyDeps.lookupKey,
    request: on.request,
    scope: on.scope,
    contentField: on.contentField,
    ...(on.principal ? { principal: on.principal } : {}),
    ...(on.coSigned ? { coSigned: true } : {}),
    now: Math.floor(now / 1000),
    maxTtlSeconds: await policyTtlSeconds(ctx),
    bootEpoch: ctx.verifyDeps.bootEpoch,
    authorize: async (q) => policy.decide({ ...q, agent: await agent(q.agt), now }),
    kills: killLookup(ctx.database),
    presence: presenceGate({ db: ctx.database.db, policy, lookupAgent: agent }),
  });
  const { claims } = verified;
  if (claims.sub !== device.userId || claims.iss !== device.deviceId || verified.key.kid !== device.kid) {
    throw new CountersignError('action_mismatch', 'the token is not signed by the device deciding');
  }
  if (await isConsumed(ctx.database.db, claims.iss, claims.jti)) throw new CountersignError('replayed', 'this approval was already used');
  return claims;
}

/**
 * An approver's decision. Approve: the token must verify as an approval of exactly this proposal
 * (its digest, scope, agent and trace; signed by this device for its user; within the policy TTL;
 * allowed by policy; no kill) and is kept, not consumed; the proposal is approved once its quorum of
 * distinct people approved (`pending` until then). Reject: the first decision wins. Later ones are
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

  if ('reject' in decision) {
    const won = await rejectProposal(ctx.database.db, row, { state: 'rejected', reason: decision.reject.reason, approver: device.userId }, stepFacts(row, 'rejected', policy.version, device.userId, device.kid), now);
    if (!won) return refuse(new CountersignError('already_decided', 'another decision came first, or the proposal expired'));
    wakeups.wake(id);
    return { state: 'rejected' };
  }

  try {
    // A published held action is an assistant's, in its publisher's session; an agent proposal is the agent's own.
    const principal: Principal = row.published_by !== null ? { kind: 'user', id: row.published_by } : { kind: 'agent', id: row.agent_id };
    const claims = await verifyDeciderToken(ctx, device, decision.approve, {
      request: ActionRequest.parse(JSON.parse(row.request)),
      scope: row.scope,
      contentField: row.content_field ?? undefined,
      principal,
      coSigned: row.published_by !== null,
    });
    if (claims.act.dig !== row.digest || claims.trc !== row.trace_id || claims.agt !== row.agent_id) throw new CountersignError('action_mismatch', 'the token approves another proposal');
  } catch (error) {
    if (error instanceof CountersignError) return refuse(error);
    throw error;
  }
  const outcome = await recordApproval(ctx.database, row, { user_id: device.userId, device_id: device.deviceId, kid: device.kid, token: decision.approve }, stepFacts(row, 'approved', policy.version, device.userId, device.kid), now);
  if (outcome === 'not_pending') return refuse(new CountersignError('already_decided', 'another decision came first, or the proposal expired'));
  if (outcome === 'already_approved') return refuse(new CountersignError('already_decided', 'this person or device has already approved it'));
  wakeups.wake(id);
  return { state: outcome === 'approved' ? 'approved' : 'pending' };
}
