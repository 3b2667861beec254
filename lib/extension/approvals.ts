// Approve or reject a held action: the background signs the stored record (what the owner saw is
// what is signed), once, and keeps the token with it; where policy requires more approvers than the
// owner (a quorum), her approval makes it await them instead of releasing it; where it needs her
// presence, the token carries her assertion over the challenge drafted for it (presence.ts). Background only; reached
// only through the popup's messages (lib/messaging/contract.ts), never from a content script or a page.
import Dexie from 'dexie';
import { matchesAny, mintApprovalToken } from '../protocol';
import type { LogEventType, WebAuthnAssertion } from '../protocol';
import type { ActionState } from './held-action-states';
import { logTypeOf } from './held-action-states';
import { askPlan } from './approval-plan';
import type { PendingActionRow } from './db';
import { db } from './db';
import { deviceKey } from './device-key';
import type { EffectivePolicy } from '../policy/effective-policy';
import type { KillStateView } from '../messaging/contract';
import { appendLog, logTables } from './log';
import { ExtensionError } from '../messaging/errors';
import { nextState, transition } from './held-action-states';
import { clearDraft, mintTiming } from './presence';

export interface ApprovalGates {
  policy: EffectivePolicy;
  kill: KillStateView;
  verifierReachable: boolean;
  failClosed: string[];
  now: number;
}

/** How many distinct approvers policy requires for the action (the verifier's plan), or null when it did not answer. */
export type PlanQuorum = (action: PendingActionRow) => Promise<number | null>;

const planQuorum: PlanQuorum = async (action) => (await askPlan(action))?.quorum ?? null;

/**
 * Signs a held action. Refuses (fails closed, saying why) when not enrolled, a kill switch is on,
 * the verifier is unreachable, the site is blocked or named by an invalid policy, or the action is
 * no longer held. Compare-and-set on `held`: a double click or two windows mint one token (S-08).
 * When policy requires more than one approver (the plan asked when it was held, asked again here if the
 * verifier did not answer then), the signed action awaits the others (`awaiting`) instead of being
 * released; a plan still unknown signs as for one, and the tool's verifier refuses it if it needs more.
 * Presence: with `wa`, the draft ui-bg:presence-challenge stored is checked against it (presence.ts)
 * and the token minted with exactly its jti, iat and exp, and `wa`; without, an action whose plan
 * says `uv` is refused (`presence_required`); an unknown plan signs as before and the verifier decides.
 */
export async function approveAction(actionId: string, gates: ApprovalGates, plan: PlanQuorum = planQuorum, wa?: WebAuthnAssertion): Promise<PendingActionRow> {
  const enrollment = await db().enrollment.get('current');
  if (!enrollment) throw new ExtensionError('not_enrolled', 'This browser is not enrolled: open the options page and enroll it first.');
  if (gates.kill.engaged) throw new ExtensionError('kill_switch_engaged', gates.kill.reasons.join(' '));
  if (!gates.verifierReachable) throw new ExtensionError('verifier_unavailable', 'The verifier cannot be reached, so an approval could not be used: nothing is signed.');
  const action = await db().actions.get(actionId);
  if (!action) throw new ExtensionError('not_found', 'No such pending action.');
  // The site and the request itself: a pattern may name a path (`https://tool/admin/*`), not only an origin.
  const names = (patterns: string[]) => matchesAny(patterns, action.site) || matchesAny(patterns, action.spec.request.url);
  if (names(gates.policy.blockedSites)) throw new ExtensionError('site_blocked', 'Assistant actions are blocked on this site by policy.');
  if (names(gates.failClosed)) throw new ExtensionError('policy_invalid', 'The admin policy for this site is invalid: nothing is released here until it is fixed.');
  // Approved already (a double click, a second window): the same token, never a second one.
  if ((action.state === 'approved' || action.state === 'awaiting') && action.token) return action;
  transition(action.state, 'approve');
  if (gates.now >= action.expiresAt) throw new ExtensionError('expired', 'This action expired before it was approved.');
  const subject = { kind: 'held', id: action.id, dig: action.digest } as const;
  const timing = await mintTiming(subject, wa, action.presence, enrollment, { ttlSeconds: gates.policy.approvalTtlSeconds, now: gates.now });
  const quorum = action.quorum ?? (await plan(action).catch(() => null)) ?? undefined;
  const event = quorum !== undefined && quorum > 1 ? 'share' : 'approve';

  const key = await deviceKey();
  return db().transaction('rw', logTables(db().actions, db().presenceDrafts), async () => {
    const current = await db().actions.get(actionId);
    const state = current ? nextState(current.state, event) : null;
    if (!current || !state) {
      if ((current?.state === 'approved' || current?.state === 'awaiting') && current.token) return current;
      throw new ExtensionError('not_pending', 'This action changed while it was being approved.');
    }
    // Signed inside the compare-and-set: a second approval's transaction waits for this one and
    // finds the token, so no second token is ever computed (S-08). waitFor keeps the transaction open
    // across Web Crypto, as appendLog does.
    const { token, claims } = await Dexie.waitFor(
      mintApprovalToken({
        privateKey: key.privateKey,
        kid: key.kid,
        deviceId: enrollment.deviceId,
        userId: enrollment.userId,
        request: current.spec.request,
        agent: current.spec.agent,
        scope: current.spec.scope,
        traceId: current.spec.trc,
        ...timing,
      }),
    );
    // A draft signs one token.
    if (timing.wa) await clearDraft(subject);
    const awaits = state === 'awaiting' ? { quorum: quorum!, approvers: [enrollment.userId] } : quorum !== undefined ? { quorum } : {};
    const updated: PendingActionRow = { ...current, ...awaits, state, token, updatedAt: gates.now };
    await db().actions.put(updated);
    const more: Record<string, string | number> = state === 'awaiting' ? { quorum: quorum!, waiting: `for ${quorum! - 1} more approver${quorum! === 2 ? '' : 's'}` } : {};
    await appendLog(eventFields(updated, state, { jti: claims.jti, exp: claims.exp, ...more, ...(claims.wa ? { presence: 'uv' } : {}) }, enrollment.userId, gates.now));
    return updated;
  });
}

export async function rejectAction(actionId: string, reason: string | undefined, now: number): Promise<PendingActionRow> {
  const enrollment = await db().enrollment.get('current');
  return db().transaction('rw', logTables(db().actions), async () => {
    const current = await db().actions.get(actionId);
    if (!current) throw new ExtensionError('not_found', 'No such pending action.');
    const state = transition(current.state, 'reject');
    const updated: PendingActionRow = { ...current, state, reason: reason ?? null, updatedAt: now };
    await db().actions.put(updated);
    await appendLog(eventFields(updated, state, reason ? { reason } : null, enrollment?.userId ?? null, now));
    return updated;
  });
}

/** The log event of one action transition: trace, agent, principal, scope, site, digest, diff. */
export function eventFields(action: PendingActionRow, type: LogEventType | ActionState, detail: Record<string, string | number> | null, userId: string | null, now: number) {
  return {
    id: crypto.randomUUID(),
    ts: now,
    type: type === 'awaiting' ? logTypeOf(type) : type,
    trc: action.spec.trc,
    principal: userId ? ({ kind: 'user', id: userId } as const) : null,
    agent: action.spec.agent,
    tool: action.spec.tool,
    site: action.site,
    digest: action.digest,
    diff: action.spec.diff,
    detail: { scope: action.spec.scope, ...(detail ?? {}) },
  };
}
