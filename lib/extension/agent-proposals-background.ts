// Agent proposals in the background: the alarm that polls the verifier while enrolled, a
// notification and the toolbar count for each new one (logged `proposed`), the popup's list with each
// proposal's review (its "before" read through the site's adapter with the user's own cookies), and
// the owner's decision — signed here as for an in-page hold (with her presence where the proposal asks
// for it: presence.ts), stored before it is posted, so a worker
// stopped meanwhile retries it on the next wake instead of losing it. The verifier is the source of
// truth; what the background keeps is in the database, never only in memory. Background only.
import { browser } from 'wxt/browser';
import { ProposalDecision, matchesAny, mintApprovalToken, parseJsonStrict } from '../protocol';
import type { LogEventType, PendingProposal } from '../protocol';
import type { AgentDecisionView, AgentProposalDecideInput, AgentProposalsView, BotApprovalsView } from '../messaging/contract';
import { ExtensionError } from '../messaging/errors';
import { adapterFor } from '../policy/site-adapters';
import type { PolicyView } from '../policy/effective-policy';
import { EMPTY_AGENT_PROPOSALS, digestMatches, listFailed, moreNeeded, reviewAgentProposal, settleDecision, takeList, waiting, withDecision } from './agent-proposals';
import type { AgentProposalsState } from './agent-proposals';
import type { AgentDecision, AgentProposalReview } from './agent-proposals';
import { listAgentProposals, listBotApprovals, postAgentDecision } from './agent-proposals-client';
import { db } from './db';
import { deviceKey } from './device-key';
import { currentEnrollment } from './enrollment';
import { appendLog, logTables } from './log';
import { currentPolicyView } from './policy-store';
import { deviceAuthorization } from './receipt-lookup';
import { agentProposalsSetting } from './agent-proposals-store';
import { clearDraft, mintTiming } from './presence';
import { updateBadge, watchQuorums } from './features/holds';
import type { Handlers } from './features/handlers';
import { gates, verifierUrl } from './features/verifier';

const BEFORE_TIMEOUT_MS = 5000;
const MAX_BEFORE_CHARS = 1024 * 1024;

/** Read-modify-write of the stored state in one transaction, with the log events it records. */
async function update<T>(change: (state: AgentProposalsState) => Promise<{ next: AgentProposalsState; result: T }>): Promise<T> {
  return db().transaction('rw', logTables(db().settings), async () => {
    const { next, result } = await change(await agentProposalsSetting.getValue());
    await agentProposalsSetting.setValue(next);
    return result;
  });
}

function eventOf(proposal: PendingProposal, type: LogEventType, view: PolicyView, userId: string | null, diff: AgentProposalReview['diff'], detail: Record<string, string | number>, now: number) {
  let site: string | null = null;
  let tool: string | null = null;
  try {
    site = new URL(proposal.request.url).origin;
    tool = adapterFor(view, proposal.request.url)?.id ?? null;
  } catch {
    // A URL no browser sends: logged without a site.
  }
  return {
    id: crypto.randomUUID(),
    ts: now,
    type,
    trc: proposal.traceId,
    principal: userId ? ({ kind: 'user', id: userId } as const) : null,
    agent: proposal.agent,
    tool,
    site,
    digest: proposal.digest,
    diff,
    detail: { scope: proposal.scope, proposal: proposal.id, ...detail },
  };
}

/** The verifier in use, and this device enrolled with it; null when there is nothing to ask. */
async function verifierToAsk(view: PolicyView): Promise<string | null> {
  const enrollment = await currentEnrollment();
  const url = await verifierUrl(view);
  if (!enrollment || !url) return null;
  return url;
}

/** Posts every stored decision not yet taken by the verifier; a verifier that does not answer keeps them for the next wake. */
export async function deliverDecisions(): Promise<void> {
  const view = await currentPolicyView();
  const verifier = await verifierToAsk(view);
  if (!verifier) return;
  for (const decision of (await agentProposalsSetting.getValue()).decisions.filter((d) => d.state === 'sending')) {
    const answer = await postAgentDecision(verifier, decision.id, decision.body, deviceAuthorization);
    if (!answer.ok && answer.unreachable) {
      await update(async (state) => ({ next: { ...state, decisions: state.decisions.map((d) => (d.id === decision.id ? { ...d, message: `${answer.message} Not delivered yet: it is sent again shortly.`, updatedAt: Date.now() } : d)) }, result: null }));
      continue;
    }
    await update(async (state) => ({ next: settleDecision(state, decision.id, answer.ok ? { ok: true, answered: answer.value.state } : answer, Date.now()), result: null }));
  }
}

/**
 * One poll: decisions in flight delivered first, then the list asked afresh; what is new is logged
 * `proposed` and notified. A failed list keeps the last one, marked unreachable (the popup approves nothing).
 */
export async function pollAgentProposals(): Promise<void> {
  const view = await currentPolicyView();
  const verifier = await verifierToAsk(view);
  if (!verifier) {
    await update(async () => ({ next: { ...EMPTY_AGENT_PROPOSALS, error: 'This browser is not enrolled.', checkedAt: Date.now() }, result: null }));
    await updateBadge();
    return;
  }
  await deliverDecisions();
  const answer = await listAgentProposals(verifier, deviceAuthorization);
  const enrollment = await currentEnrollment();
  const fresh = await update(async (state) => {
    const now = Date.now();
    if (!answer.ok) return { next: listFailed(state, `${answer.message}${answer.unreachable ? '' : ` (${answer.code})`}`, now), result: [] as PendingProposal[] };
    const taken = takeList(state, answer.value, verifier, now);
    for (const p of taken.fresh) await appendLog(eventOf(p, 'proposed', view, enrollment?.userId ?? null, null, {}, now));
    return { next: taken.next, result: taken.fresh };
  });
  for (const p of fresh) {
    let site = p.request.url;
    try {
      site = new URL(p.request.url).host;
    } catch {
      // shown as sent
    }
    void browser.notifications
      .create(`agent-proposal:${p.id}`, { type: 'basic', iconUrl: browser.runtime.getURL('/icon/128.png'), title: 'Countersign: an agent asks', message: `${p.agent} wants to ${p.scope} on ${site}.` })
      .catch(() => undefined);
  }
  await updateBadge();
}

/** Reads a "before" in the user's own session: a GET to the site's origin with its cookies, its JSON, or null. */
async function readBefore(url: string): Promise<unknown> {
  try {
    const res = await fetch(url, { method: 'GET', credentials: 'include', headers: { accept: 'application/json' }, cache: 'no-store', redirect: 'error', signal: AbortSignal.timeout(BEFORE_TIMEOUT_MS) });
    if (!res.ok) return null;
    const text = await res.text();
    if (text.length > MAX_BEFORE_CHARS) return null;
    const json = parseJsonStrict(text);
    return json.ok ? json.value : null;
  } catch {
    return null;
  }
}

function decisionView(d: AgentDecision | undefined): AgentDecisionView | null {
  return d ? { kind: d.kind, state: d.state, answered: d.answered ?? null, more: d.answered === 'pending' ? Math.max(1, moreNeeded(d.proposal)) : null, code: d.code, message: d.message } : null;
}

/** The popup's list: asked afresh, each proposal with its review and this device's decision on it. */
export async function agentProposalsView(): Promise<AgentProposalsView> {
  // The popup open: the holds awaiting other approvers are asked about too (the watch joins any under way).
  void watchQuorums().catch(() => undefined);
  await pollAgentProposals();
  const { view, kill } = await gates();
  const state = await agentProposalsSetting.getValue();
  const now = Date.now();
  const decided = new Map(state.decisions.map((d) => [d.id, d]));
  const listed = waiting(state, now);
  // A decision not (yet) taken, or refused, stays shown with its proposal; so does an approval counted toward a quorum not yet met.
  const shown = [...listed, ...state.decisions.filter((d) => (d.state !== 'delivered' || d.answered === 'pending') && !listed.some((p) => p.id === d.id)).map((d) => d.proposal)];
  const items = await Promise.all(
    shown.map(async (proposal) => ({
      proposal,
      review: await reviewAgentProposal(proposal, view, readBefore),
      digestOk: await digestMatches(proposal),
      decision: decisionView(decided.get(proposal.id)),
    })),
  );
  return { enrolled: (await currentEnrollment()) !== undefined, reachable: state.error === null && state.fetchedAt !== null, error: state.error, checkedAt: state.checkedAt, kill, items };
}

/**
 * The owner's decision. Approve: refused (fail closed, saying why) when not enrolled, a kill switch is
 * on, the verifier did not answer, the proposal is not listed or expired, its site blocked, or its
 * digest is not its request's; where it needs presence (`proposal.presence`), refused without an
 * assertion, or with one that is not over the draft ui-bg:presence-challenge stored for it; else
 * signed with the same claims as an in-page hold's approval (and the assertion). Both:
 * stored and logged in one transaction, then posted; a second click finds the first decision.
 */
export async function decideAgentProposal(input: AgentProposalDecideInput): Promise<AgentDecisionView> {
  const enrollment = await currentEnrollment();
  if (!enrollment) throw new ExtensionError('not_enrolled', 'This browser is not enrolled: open the options page and enroll it first.');
  const stored = await agentProposalsSetting.getValue();
  const existing = stored.decisions.find((d) => d.id === input.id && d.state !== 'refused');
  if (existing) return decisionView(existing)!;
  const proposal = stored.proposals.find((p) => p.id === input.id);
  if (!proposal) throw new ExtensionError('not_found', 'No such agent proposal waits for you (decided, expired, or never listed).');
  const now = Date.now();
  let body: ProposalDecision;
  let detail: Record<string, string | number>;
  const { view, status, kill } = await gates();
  if ('approve' in input) {
    if (kill.engaged) throw new ExtensionError('kill_switch_engaged', kill.reasons.join(' '));
    if (!status.reachable || stored.error !== null) throw new ExtensionError('verifier_unavailable', 'The verifier cannot be reached, so an approval could not be used: nothing is signed.');
    if (now >= proposal.expiresAt * 1000) throw new ExtensionError('expired', 'This proposal expired before it was approved.');
    const names = (patterns: string[]) => matchesAny(patterns, proposal.request.url);
    if (names(view.policy.blockedSites)) throw new ExtensionError('site_blocked', 'Assistant actions are blocked on this site by policy.');
    if (names(view.failClosed)) throw new ExtensionError('policy_invalid', 'The admin policy for this site is invalid: nothing is approved there until it is fixed.');
    if (!(await digestMatches(proposal))) throw new ExtensionError('action_mismatch', 'The digest the verifier listed is not the digest of the request it listed: nothing is signed.');
    const key = await deviceKey();
    if (key.kid !== enrollment.kid) throw new ExtensionError('key_unknown', 'This device\'s key is not the enrolled one: enroll again.');
    const subject = { kind: 'proposal', id: proposal.id, dig: proposal.digest } as const;
    const timing = await mintTiming(subject, input.wa, proposal.presence, enrollment, { ttlSeconds: view.policy.approvalTtlSeconds, now });
    const { token, claims } = await mintApprovalToken({
      privateKey: key.privateKey,
      kid: key.kid,
      deviceId: enrollment.deviceId,
      userId: enrollment.userId,
      request: proposal.request,
      agent: proposal.agent,
      scope: proposal.scope,
      traceId: proposal.traceId,
      ...timing,
    });
    // A draft signs one token.
    if (timing.wa) await clearDraft(subject);
    body = { approve: token };
    detail = { jti: claims.jti, exp: claims.exp, ...(claims.wa ? { presence: 'uv' } : {}) };
  } else {
    const parsed = ProposalDecision.safeParse({ reject: { reason: input.reject.reason.trim() } });
    if (!parsed.success) throw new ExtensionError('payload_invalid', 'A reason is plain text, one to 500 characters.');
    body = parsed.data;
    detail = { reason: input.reject.reason.trim() };
  }
  const review = await reviewAgentProposal(proposal, view, readBefore);
  const kind = 'approve' in input ? 'approve' : 'reject';
  const recorded = await update(async (state) => {
    const raced = state.decisions.find((d) => d.id === input.id && d.state !== 'refused');
    if (raced) return { next: state, result: raced };
    const decision: AgentDecision = { id: proposal.id, kind, body, proposal, state: 'sending', code: null, message: null, decidedAt: now, updatedAt: now };
    await appendLog(eventOf(proposal, kind === 'approve' ? 'approved' : 'rejected', view, enrollment.userId, review.diff, detail, now));
    return { next: withDecision(state, decision), result: decision };
  });
  await deliverDecisions();
  await updateBadge();
  const after = (await agentProposalsSetting.getValue()).decisions.find((d) => d.id === recorded.id);
  return decisionView(after ?? recorded)!;
}

/** What policy bots approved today for this user's agents and own held actions, asked afresh (the popup's "Approved by policy today"). */
export async function botApprovalsView(): Promise<BotApprovalsView> {
  const view = await currentPolicyView();
  const verifier = await verifierToAsk(view);
  if (!verifier) return { enrolled: false, reachable: false, error: 'This browser is not enrolled.', approvals: [] };
  const answer = await listBotApprovals(verifier, deviceAuthorization);
  return answer.ok ? { enrolled: true, reachable: true, error: null, approvals: answer.value } : { enrolled: true, reachable: false, error: `${answer.message}${answer.unreachable ? '' : ` (${answer.code})`}`, approvals: [] };
}

export const agentProposalHandlers = {
  'ui-bg:bot-approvals': () => botApprovalsView(),
  'ui-bg:agent-proposals': () => agentProposalsView(),
  'ui-bg:agent-proposals-decide': (input) => decideAgentProposal(input),
} satisfies Handlers;

/** On every wake (the poll's alarm is features/alarms.ts's): decisions left in flight by a stopped worker are retried, and the list asked afresh. */
export function startAgentProposals(): void {
  void pollAgentProposals().catch(() => undefined);
}
