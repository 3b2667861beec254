// The held action's life in one table: every state, the events that move it and where each goes.
// Proposals, approvals, the tab's report, expiry and closed tabs all ask it; a move it does not list
// does not happen. Runtime-neutral, pure.
import type { LogEventType } from '../protocol';
import { ExtensionError } from '../messaging/errors';

/**
 * `awaiting`: the owner approved, but policy requires more approvers (a quorum): her token is kept and
 * the action published for the others; it is released only with every token.
 */
export const ACTION_STATES = ['held', 'awaiting', 'approved', 'released', 'rejected', 'expired', 'blocked', 'failed'] as const;
export type ActionState = (typeof ACTION_STATES)[number];

/** `new`: the proposal being recorded, before its row exists. */
export type ActionStart = 'new';

export const ACTION_EVENTS = ['propose', 'block', 'approve', 'share', 'quorum', 'reject', 'release', 'refuse', 'expire', 'lapse', 'fail', 'navigate'] as const;
/**
 * - `propose` / `block`: a proposal recorded as held, or refused outright on a blocked site.
 * - `approve` / `reject`: the owner's answer in the popup (or a policy bot's approval, which the
 *   verifier's plan carried); a rejection also ends an awaiting action another approver refused.
 * - `share`: the owner approved, and policy requires more approvers: it awaits them.
 * - `quorum`: every approver policy requires has approved: the action may be released with every token.
 * - `release`: the tab sent the released request and the tool took it.
 * - `refuse`: the tab sent it and the tool refused it (HTTP ≥ 400): sent, but it did not take effect.
 * - `expire`: not approved within its time to live.
 * - `lapse`: approved, but never released before the approval itself ran out.
 * - `fail`: the tab is gone or closed, or reported that the request could not be sent.
 * - `navigate`: the tab reloaded or navigated; only a request still waiting for approval goes with the
 *   page (an approved one may be navigating as its own release, e.g. a form post).
 */
export type ActionEvent = (typeof ACTION_EVENTS)[number];

export const TRANSITIONS = {
  new: { propose: 'held', block: 'blocked' },
  held: { approve: 'approved', share: 'awaiting', reject: 'rejected', expire: 'expired', fail: 'failed', navigate: 'failed' },
  // Still in the page: a navigation takes it with the page, as a held one.
  awaiting: { quorum: 'approved', reject: 'rejected', expire: 'expired', fail: 'failed', navigate: 'failed' },
  approved: { release: 'released', refuse: 'failed', lapse: 'failed', fail: 'failed' },
  released: {},
  rejected: {},
  expired: {},
  blocked: {},
  failed: {},
} as const satisfies Record<ActionStart | ActionState, Partial<Record<ActionEvent, ActionState>>>;

/** The states no event leaves: the action's end, logged once. */
export const TERMINAL_STATES: readonly ActionState[] = ACTION_STATES.filter((s) => Object.keys(TRANSITIONS[s]).length === 0);

/** The log event a move into `state` records: an awaiting action is one approved by its owner (detail says for how many more). */
export function logTypeOf(state: ActionState): LogEventType {
  return state === 'awaiting' ? 'approved' : state;
}

/** Where `event` takes an action in state `from`, or null when the table has no such move. */
export function nextState(from: ActionStart | ActionState, event: ActionEvent): ActionState | null {
  return (TRANSITIONS[from] as Partial<Record<ActionEvent, ActionState>>)[event] ?? null;
}

/** Like nextState, but a move the table does not list is refused: `not_pending`, naming the state it is in. */
export function transition(from: ActionStart | ActionState, event: ActionEvent): ActionState {
  const to = nextState(from, event);
  if (to === null) throw new ExtensionError('not_pending', `This action is already ${from}.`);
  return to;
}

/**
 * The event a tab's report is. A request the tool refused (4xx/5xx: its verifier down, the token
 * refused) was sent but did not take effect: it ends failed with the tool's status, so neither the
 * popup nor the log calls it released.
 */
export function reportedEvent(outcome: 'released' | 'failed', status?: number): 'release' | 'refuse' | 'fail' {
  if (outcome !== 'released') return 'fail';
  return status !== undefined && status >= 400 ? 'refuse' : 'release';
}
