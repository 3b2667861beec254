// Batch review's pure part: the batches the popup offers (one agent and one scope, two or more, oldest
// first), which items of an approved batch are signed and why the others are left out (changed,
// expired, decided already, another agent's or scope's), the message's own limits, and what each
// item's answer says. Node only (tests).
import { describe, expect, it } from 'vitest';
import { batchGroups, leftOut, planBatch, refusedResult, signedResult } from '@/lib/extension/batch-review';
import type { PendingActionRow } from '@/lib/extension/db';
import { ExtensionError } from '@/lib/messaging/errors';
import { ApproveBatchInput, ApproveBatchOutput, BATCH_LIMITS } from '@/lib/messaging/contract';

const NOW = 1_800_000_000_000;
let n = 0;
const digestOf = (c: string) => c.repeat(43);

function row(over: Partial<PendingActionRow> & { agent?: string; scope?: string } = {}): PendingActionRow {
  const { agent = 'agent:forum-helper', scope = 'forum.post', ...rest } = over;
  n += 1;
  return {
    id: `action-${n}`,
    state: 'held',
    spec: { trc: `trace-${n}`, tool: 'intraforum', scope, agent, request: { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/1/replies', contentType: 'application/json', body: `{"body":"post ${n}"}` }, content: `post ${n}`, diff: null, signals: ['assistant-marker'] },
    digest: digestOf('A'),
    site: 'http://127.0.0.1:8080',
    tabId: n,
    createdAt: NOW - 60_000 + n,
    expiresAt: NOW + 60_000,
    token: null,
    reason: null,
    updatedAt: NOW - 60_000,
    ...rest,
  };
}
const shown = (r: PendingActionRow) => ({ id: r.id, digest: r.digest });
const outcomes = (steps: ReturnType<typeof planBatch>) => steps.map((s) => ('sign' in s ? 'sign' : s.leftOut.outcome === 'left_out' ? s.leftOut.reason : s.leftOut.outcome));

describe('the batches the popup offers (batchGroups)', () => {
  it('groups held actions by agent and scope, oldest first, and offers only groups of two or more', () => {
    const a1 = row({ createdAt: 3 });
    const a2 = row({ createdAt: 1 });
    const other = row({ agent: 'agent:wiki-helper', createdAt: 2 });
    const acl = row({ scope: 'admin.acl.write', createdAt: 4 });
    const acl2 = row({ scope: 'admin.acl.write', createdAt: 5 });
    const groups = batchGroups([a1, other, acl, a2, acl2]);
    expect(groups.map((g) => [g.agent, g.scope, g.actions.map((a) => a.id)])).toEqual([
      ['agent:forum-helper', 'forum.post', [a2.id, a1.id]],
      ['agent:forum-helper', 'admin.acl.write', [acl.id, acl2.id]],
    ]);
  });

  it('leaves out what is no longer held (approved, awaiting, ended): one held post and one approved are no batch', () => {
    expect(batchGroups([row(), row({ state: 'approved', token: 't' }), row({ state: 'awaiting', token: 't' }), row({ state: 'expired' })])).toEqual([]);
  });

  it('offers at most the batch limit, the oldest first', () => {
    const rows = Array.from({ length: BATCH_LIMITS.max + 3 }, (_, i) => row({ createdAt: 100 - i }));
    const [group] = batchGroups(rows);
    expect(group!.actions).toHaveLength(BATCH_LIMITS.max);
    expect(group!.actions.map((a) => a.createdAt)).toEqual([...rows].map((r) => r.createdAt).sort((a, b) => a - b).slice(0, BATCH_LIMITS.max));
  });
});

describe('planning an approved batch (planBatch)', () => {
  it('signs every item that is still held, unexpired and what the popup showed, each its own stored record, in order', () => {
    const rows = [row(), row(), row()];
    const steps = planBatch(rows.map(shown), rows, NOW);
    expect(steps.map((s) => ('sign' in s ? s.sign : null))).toEqual(rows);
  });

  it('attack: a record that changed after the popup showed it (another digest) is left out `changed`; the others are signed', () => {
    const rows = [row(), row({ digest: digestOf('B') }), row()];
    const items = rows.map((r) => ({ id: r.id, digest: digestOf('A') }));
    expect(outcomes(planBatch(items, rows, NOW))).toEqual(['sign', 'changed', 'sign']);
  });

  it('an item whose time ran out meanwhile is left out `expired`, whether the sweep ended it yet or not', () => {
    const rows = [row({ expiresAt: NOW }), row(), row({ state: 'expired' })];
    expect(outcomes(planBatch(rows.map(shown), rows, NOW))).toEqual(['expired', 'sign', 'expired']);
  });

  it('an item decided meanwhile (approved, rejected, failed, awaiting others) is left out `already_decided`, naming its state', () => {
    const rows = [row({ state: 'rejected' }), row({ state: 'approved', token: 't' }), row({ state: 'failed' }), row({ state: 'awaiting', token: 't' }), row()];
    const steps = planBatch(rows.map(shown), rows, NOW);
    expect(outcomes(steps)).toEqual(['already_decided', 'already_decided', 'already_decided', 'already_decided', 'sign']);
    expect('leftOut' in steps[0]! && steps[0].leftOut.message).toContain('already rejected');
  });

  it('an id with no stored record, or a row that is not the one asked, is left out `not_found`', () => {
    const a = row();
    const b = row();
    expect(outcomes(planBatch([shown(a), { id: 'nope', digest: a.digest }, shown(b)], [a, undefined, a], NOW))).toEqual(['sign', 'not_found', 'not_found']);
  });

  it('attack: a batch that slips in another agent\'s action is refused whole: nothing in it is signed, the odd one named', () => {
    const rows = [row(), row({ agent: 'agent:access-helper' }), row()];
    expect(outcomes(planBatch(rows.map(shown), rows, NOW))).toEqual(['batch_refused', 'other_agent_or_scope', 'batch_refused']);
  });

  it('attack: a batch that slips in another scope of the same agent (a forum post batch with an ACL change) is refused whole', () => {
    const rows = [row(), row(), row({ scope: 'admin.acl.write' })];
    const steps = planBatch(rows.map(shown), rows, NOW);
    expect(outcomes(steps)).toEqual(['batch_refused', 'batch_refused', 'other_agent_or_scope']);
    expect(steps.every((s) => 'leftOut' in s)).toBe(true);
  });

  it('the batch\'s group is its first stored item\'s: a missing first item does not decide it', () => {
    const rows = [undefined, row({ scope: 'admin.acl.write' }), row({ scope: 'admin.acl.write' })];
    expect(outcomes(planBatch([{ id: 'gone', digest: digestOf('A') }, shown(rows[1]!), shown(rows[2]!)], rows, NOW))).toEqual(['not_found', 'sign', 'sign']);
  });

  it('a caller passing rows that do not match the items is a programming error (TypeError)', () => {
    expect(() => planBatch([shown(row()), shown(row())], [row()], NOW)).toThrow(TypeError);
  });
});

describe('each item\'s answer', () => {
  it('a signed item is approved (released to its page), or awaiting the other approvers policy requires', () => {
    const a = row({ state: 'approved', token: 't' });
    expect(signedResult(a)).toEqual({ id: a.id, outcome: 'approved', message: 'Approved: released to its page.' });
    const b = row({ state: 'awaiting', token: 't', quorum: 3, approvers: ['alice'] });
    expect(signedResult(b)).toMatchObject({ outcome: 'awaiting', message: expect.stringContaining('2 more approvers (policy requires 3)') });
  });

  it('an approval refused while signing is left out with its reason: expired, decided already, blocked, kill switch', () => {
    expect(refusedResult('x', new ExtensionError('expired', 'This action expired before it was approved.'))).toMatchObject({ reason: 'expired', outcome: 'left_out' });
    expect(refusedResult('x', new ExtensionError('not_pending', 'This action changed while it was being approved.'))).toMatchObject({ reason: 'already_decided' });
    expect(refusedResult('x', new ExtensionError('site_blocked', 'blocked'))).toMatchObject({ reason: 'site_blocked' });
    expect(refusedResult('x', new ExtensionError('kill_switch_engaged', 'The administrator engaged it.'))).toMatchObject({ reason: 'kill_switch_engaged' });
    expect(refusedResult('x', new ExtensionError('verifier_unavailable', 'down'))).toMatchObject({ reason: 'verifier_unavailable' });
  });

  it('any other failure is a plain `failed` that carries nothing of the error (no token, no body)', () => {
    const secret = 'eyJhbGciOiJFUzI1NiJ9.secret-token.sig';
    for (const error of [new Error(secret), { code: 'constructor', message: secret }, { code: 'internal', message: secret }, null]) {
      const result = refusedResult('x', error);
      expect(result).toMatchObject({ outcome: 'left_out', reason: 'failed' });
      expect(JSON.stringify(result)).not.toContain('secret');
    }
  });

  it('every answer fits the message map\'s answer schema', () => {
    const a = row({ state: 'approved', token: 't' });
    const items = [signedResult(a), leftOut('y', 'changed'), refusedResult('z', null), signedResult(row({ state: 'awaiting', token: 't', quorum: 2 }))];
    expect(ApproveBatchOutput.safeParse({ items }).success).toBe(true);
  });
});

describe('the batch message\'s payload (ApproveBatchInput)', () => {
  const item = (i: number) => ({ id: `action-${i}`, digest: digestOf('A') });

  it('takes 2 to 20 items, each an id and the digest shown', () => {
    expect(ApproveBatchInput.safeParse({ items: [item(1), item(2)] }).success).toBe(true);
    expect(ApproveBatchInput.safeParse({ items: Array.from({ length: 20 }, (_, i) => item(i)) }).success).toBe(true);
  });

  it('refuses one item, more than 20, an item twice, a malformed digest, or a member it does not know', () => {
    expect(ApproveBatchInput.safeParse({ items: [item(1)] }).success).toBe(false);
    expect(ApproveBatchInput.safeParse({ items: Array.from({ length: 21 }, (_, i) => item(i)) }).success).toBe(false);
    expect(ApproveBatchInput.safeParse({ items: [item(1), item(1)] }).success).toBe(false);
    expect(ApproveBatchInput.safeParse({ items: [item(1), { id: 'action-2', digest: 'short' }] }).success).toBe(false);
    expect(ApproveBatchInput.safeParse({ items: [item(1), { ...item(2), token: 'x' }] }).success).toBe(false);
  });
});

describe('actions that need the person\'s presence', () => {
  it('are never offered in a batch: they are approved one at a time, each with its own assertion', () => {
    const a = row({ scope: 'admin.acl.write', presence: 'uv' });
    const b = row({ scope: 'admin.acl.write', presence: 'uv' });
    const c = row({ scope: 'admin.acl.write', presence: 'none' });
    const d = row({ scope: 'admin.acl.write' });
    expect(batchGroups([a, b])).toEqual([]);
    expect(batchGroups([a, b, c, d]).map((g) => g.actions.map((x) => x.id))).toEqual([[c.id, d.id]]);
  });

  it('attack: a batch asked anyway with an action that needs presence leaves it out `presence_required`; the others are signed', () => {
    const a = row({ scope: 'admin.acl.write', presence: 'none' });
    const b = row({ scope: 'admin.acl.write', presence: 'uv' });
    expect(outcomes(planBatch([shown(a), shown(b)], [a, b], NOW))).toEqual(['sign', 'presence_required']);
  });

  it('an approval refused for want of presence while signing is left out `presence_required`', () => {
    expect(refusedResult('x', new ExtensionError('presence_required', 'needs presence'))).toMatchObject({ outcome: 'left_out', reason: 'presence_required' });
  });
});
