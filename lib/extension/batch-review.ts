// Batch review, the pure part: which held actions the popup offers to review together (one agent, one
// scope, two or more, none that needs the person's presence: those are approved one at a time, each
// with its own assertion), which items of an approved batch may be signed and why the others are left
// out, and what each item's answer says. Runtime-neutral, pure (no browser, no database, no clock).
import type { PendingActionRow } from './db';
import { BATCH_LIMITS } from '../messaging/contract';
import type { ApproveBatchInput, BatchItemResult, BatchLeftOutReason } from '../messaging/contract';
import type { ExtensionErrorCode } from '../messaging/errors';

/** Held actions of one agent and one scope: what one batch may approve. */
export interface BatchGroup {
  agent: string;
  scope: string;
  actions: PendingActionRow[];
}

type BatchItem = ApproveBatchInput['items'][number];

/** One item of a batch, planned: signed (the stored record, checked), or left out with its answer. */
export type BatchStep = { id: string; sign: PendingActionRow } | { id: string; leftOut: BatchItemResult };

const sameGroup = (a: PendingActionRow, b: { spec: { agent: string; scope: string } }) => a.spec.agent === b.spec.agent && a.spec.scope === b.spec.scope;

/** True when approving the row asks for the person's presence: it is never part of a batch. */
export const needsPresence = (row: Pick<PendingActionRow, 'presence'>): boolean => row.presence === 'uv';

/**
 * The batches the popup offers: held actions grouped by agent and scope, oldest first, only groups of
 * two or more, at most BATCH_LIMITS.max a batch (the oldest; the rest wait for the next one). Actions
 * that need presence are left out (approved one at a time).
 */
export function batchGroups(rows: readonly PendingActionRow[]): BatchGroup[] {
  const groups: BatchGroup[] = [];
  for (const row of [...rows].filter((r) => r.state === 'held' && !needsPresence(r)).sort((a, b) => a.createdAt - b.createdAt)) {
    const group = groups.find((g) => g.agent === row.spec.agent && g.scope === row.spec.scope);
    if (group) group.actions.push(row);
    else groups.push({ agent: row.spec.agent, scope: row.spec.scope, actions: [row] });
  }
  return groups.filter((g) => g.actions.length >= BATCH_LIMITS.min).map((g) => ({ ...g, actions: g.actions.slice(0, BATCH_LIMITS.max) }));
}

const LEFT_OUT_TEXT: Record<BatchLeftOutReason, string> = {
  not_found: 'No such pending action: nothing was signed for it.',
  other_agent_or_scope: 'It is another agent\'s or another scope\'s action: a batch is one agent and one scope, so nothing in this batch was signed.',
  batch_refused: 'Nothing in this batch was signed: it mixed agents or scopes.',
  already_decided: 'It was decided already: nothing more was signed for it.',
  changed: 'It is not the action you reviewed (its request changed): nothing was signed for it. Review it again.',
  expired: 'Its time ran out before the batch was approved: nothing was signed for it.',
  site_blocked: 'Assistant actions are blocked on its site by policy: nothing was signed for it.',
  policy_invalid: 'The admin policy for its site is invalid: nothing was signed for it.',
  kill_switch_engaged: 'A kill switch is on: nothing was signed for it.',
  verifier_unavailable: 'The verifier cannot be reached: nothing was signed for it.',
  not_enrolled: 'This browser is not enrolled: nothing was signed for it.',
  presence_required: 'It needs your presence (fingerprint, PIN or security key): approve it on its own. Nothing was signed for it.',
  failed: 'It could not be signed.',
};

export function leftOut(id: string, reason: BatchLeftOutReason, message = LEFT_OUT_TEXT[reason]): BatchItemResult {
  return { id, outcome: 'left_out', reason, message };
}

/**
 * Plans a batch the owner approved: each item as the popup showed it (`digest`) against the stored
 * record (`rows`, in the same order; undefined when there is none) at `now`. A batch that names an
 * action of another agent or scope than its first is refused whole: nothing in it is signed. Else an
 * item is signed only while it is still held, unexpired, exactly what the popup showed (its stored
 * digest is the one shown) and needs no presence; every other item is left out, saying why.
 */
export function planBatch(items: readonly BatchItem[], rows: readonly (PendingActionRow | undefined)[], now: number): BatchStep[] {
  if (rows.length !== items.length) throw new TypeError('planBatch: one row (or undefined) per item');
  const first = rows.find((r) => r !== undefined);
  const mixed = first !== undefined && rows.some((r) => r !== undefined && !sameGroup(r, first));
  return items.map((item, i): BatchStep => {
    const row = rows[i];
    if (!row || row.id !== item.id) return { id: item.id, leftOut: leftOut(item.id, 'not_found') };
    if (mixed) return { id: item.id, leftOut: leftOut(item.id, sameGroup(row, first) ? 'batch_refused' : 'other_agent_or_scope') };
    if (row.state === 'expired') return { id: item.id, leftOut: leftOut(item.id, 'expired') };
    if (row.state !== 'held') return { id: item.id, leftOut: leftOut(item.id, 'already_decided', `It is already ${row.state}: nothing more was signed for it.`) };
    if (row.digest !== item.digest) return { id: item.id, leftOut: leftOut(item.id, 'changed') };
    if (needsPresence(row)) return { id: item.id, leftOut: leftOut(item.id, 'presence_required') };
    if (now >= row.expiresAt) return { id: item.id, leftOut: leftOut(item.id, 'expired') };
    return { id: item.id, sign: row };
  });
}

/** A signed item's answer: released to its page, or (a quorum) awaiting the other approvers. */
export function signedResult(row: PendingActionRow): BatchItemResult {
  if (row.state === 'awaiting') {
    const more = (row.quorum ?? 2) - (row.approvers?.length ?? 1);
    return { id: row.id, outcome: 'awaiting', message: `Approved by you; it waits for ${more} more approver${more === 1 ? '' : 's'} (policy requires ${row.quorum ?? 2}).` };
  }
  return { id: row.id, outcome: 'approved', message: 'Approved: released to its page.' };
}

const REASON_OF_CODE: Partial<Record<ExtensionErrorCode, BatchLeftOutReason>> = {
  not_found: 'not_found',
  not_pending: 'already_decided',
  expired: 'expired',
  site_blocked: 'site_blocked',
  policy_invalid: 'policy_invalid',
  kill_switch_engaged: 'kill_switch_engaged',
  verifier_unavailable: 'verifier_unavailable',
  not_enrolled: 'not_enrolled',
  presence_required: 'presence_required',
};

/**
 * The answer for an item whose signing was refused (approveAction's refusals): its reason in the
 * batch's words; an error that is none of them is a plain `failed` that carries nothing of it.
 */
export function refusedResult(id: string, error: unknown): BatchItemResult {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' && Object.hasOwn(REASON_OF_CODE, code) ? REASON_OF_CODE[code as ExtensionErrorCode] : undefined;
  return leftOut(id, reason ?? 'failed');
}
