// The background's batch approval (ui-bg:approve-batch), driven as the router calls it, against a real
// verifier for the gates: every item signed on its own (its own token over its own digest) and released
// to its own tab; an item not what the popup showed, or a batch that slips in another agent's action,
// signs nothing for it (or for the batch); a kill switch or an unreachable verifier refuses each, saying
// so. Node only (tests: fakeBrowser, fake IndexedDB, a verifier on SQLite).
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import type { PendingActionRow } from '@/lib/extension/db';
import { deviceKey } from '@/lib/extension/device-key';
import { approvalHandlers } from '@/lib/extension/features/approvals';
import { proposeAction } from '@/lib/extension/held-actions';
import { listLog } from '@/lib/extension/log';
import { readPolicyView } from '@/lib/extension/policy-store';
import { dispatch } from '@/lib/extension/router';
import type { ProposalInput } from '@/lib/messaging/contract';
import { ApprovalClaims } from '@/lib/protocol/index';
import { demoAdapters } from '../../../../demo/adapters';
import { FORUM_PAGE } from '../../../helpers/proposals';
import { startVerifier } from '../../../helpers/verifier';
import type { TestVerifier } from '../../../helpers/verifier';

let verifier: TestVerifier;
let verifierUrl: string;
type Sent = { tabId: number; type: string; data: { actionId?: string; token?: string; tokens?: string[] } };
let sent: Sent[] = [];

beforeAll(async () => {
  verifier = await startVerifier('sqlite');
  verifierUrl = await verifier.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => verifier.close());

beforeEach(async () => {
  fakeBrowser.reset();
  sent = [];
  // The tab's content script: takes the release (there is no page in Node to send it).
  Object.assign(fakeBrowser.tabs, {
    sendMessage: vi.fn((tabId: number, message: { type: string; data: Sent['data'] }, _options: unknown, answer?: (response: unknown) => void) => {
      sent.push({ tabId, type: message.type, data: message.data });
      answer?.({ res: undefined });
      return Promise.resolve({ res: undefined });
    }),
  });
  await fakeBrowser.storage.managed.set({ protectedSites: ['http://127.0.0.1:8080/*'], adapters: JSON.stringify(demoAdapters()), verifierUrl });
  useDatabase(new CountersignDb(`cs-batch-${crypto.randomUUID()}`));
  const key = await deviceKey();
  await db().enrollment.put({ id: 'current', verifierUrl, deviceId: 'device-1', userId: 'alice', kid: key.kid, label: 't', enrolledAt: Date.now() });
  await db().chain.put({ id: 'chain', deviceId: 'device-1', epoch: 1, head: null });
});

/** The assistant's reply on `topic`, held in tab `topic` (each request, so each digest, its own). */
async function held(topic: number): Promise<PendingActionRow> {
  const text = `Reply ${topic}: try revoking the group grant.`;
  const proposal: ProposalInput = {
    kind: 'fetch',
    request: { method: 'POST', url: `http://127.0.0.1:8080/api/topics/${topic}/replies`, contentType: 'application/json', body: JSON.stringify({ body: text, author_kind: 'assistant' }) },
    content: text,
    signals: ['assistant-marker'],
    agentHint: 'agent:forum-helper',
    diff: { kind: 'text', before: null, after: text },
  };
  return proposeAction(proposal, { view: await readPolicyView(), pageUrl: FORUM_PAGE.replace('/t/1', `/t/${topic}`), tabId: topic, userId: 'alice', now: Date.now() });
}

const shown = (r: PendingActionRow) => ({ id: r.id, digest: r.digest });
const approveBatch = (items: Array<{ id: string; digest: string }>) => approvalHandlers['ui-bg:approve-batch']({ items });
const claimsOf = (token: string) => ApprovalClaims.parse(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')));
const releases = () => sent.filter((m) => m.type === 'bg-cs:release');
const released = (row: PendingActionRow) => releases().filter((m) => m.data.actionId === row.id);

describe('ui-bg:approve-batch', () => {
  it('signs every item on its own, each token over its own digest, and releases each to its own tab, in order', async () => {
    const rows = [await held(1), await held(2), await held(3)];
    const answer = await approveBatch(rows.map(shown));
    expect(answer.items.map((r) => [r.id, r.outcome])).toEqual(rows.map((r) => [r.id, 'approved']));
    const stored = await db().actions.bulkGet(rows.map((r) => r.id));
    const claims = stored.map((r) => claimsOf(r!.token!));
    expect(claims.map((c) => c.act.dig)).toEqual(rows.map((r) => r.digest));
    expect(claims.map((c) => c.trc)).toEqual(rows.map((r) => r.spec.trc));
    expect(new Set(claims.map((c) => c.jti)).size).toBe(3);
    expect(releases().map((m) => m.tabId)).toEqual([1, 2, 3]);
    for (const row of rows) expect(released(row)[0]?.data).toMatchObject({ actionId: row.id });
    expect((await listLog({ type: 'approved' })).map((e) => e.trc)).toEqual(rows.map((r) => r.spec.trc));
  });

  it('attack: a record that is not what the popup showed (another digest) gets no token and no release; the others are signed', async () => {
    const rows = [await held(1), await held(2), await held(3)];
    const answer = await approveBatch([shown(rows[0]!), { id: rows[1]!.id, digest: rows[2]!.digest }, shown(rows[2]!)]);
    expect(answer.items.map((r) => (r.outcome === 'left_out' ? r.reason : r.outcome))).toEqual(['approved', 'changed', 'approved']);
    expect(await db().actions.get(rows[1]!.id)).toMatchObject({ state: 'held', token: null });
    expect(released(rows[1]!)).toEqual([]);
    expect((await listLog({ trace: rows[1]!.spec.trc })).map((e) => e.type)).toEqual(['proposed', 'held']);
  });

  it('attack: a batch that slips in another agent\'s held action is refused whole: nothing signed, nothing released', async () => {
    const rows = [await held(1), await held(2)];
    const other: PendingActionRow = { ...(await held(3)), id: 'other-agent-action' };
    other.spec = { ...other.spec, agent: 'agent:access-helper', trc: 'trace-other' };
    await db().actions.add(other);
    const answer = await approveBatch([...rows.map(shown), shown(other)]);
    expect(answer.items.map((r) => (r.outcome === 'left_out' ? r.reason : r.outcome))).toEqual(['batch_refused', 'batch_refused', 'other_agent_or_scope']);
    expect((await db().actions.toArray()).map((r) => r.token)).toEqual([null, null, null, null]);
    expect(releases()).toEqual([]);
  });

  it('an item approved meanwhile (a second window) is left out already_decided and keeps its one token', async () => {
    const rows = [await held(1), await held(2)];
    await approvalHandlers['ui-bg:approve']({ actionId: rows[0]!.id });
    const token = (await db().actions.get(rows[0]!.id))!.token;
    const answer = await approveBatch(rows.map(shown));
    expect(answer.items.map((r) => (r.outcome === 'left_out' ? r.reason : r.outcome))).toEqual(['already_decided', 'approved']);
    expect((await db().actions.get(rows[0]!.id))!.token).toBe(token);
    expect(released(rows[0]!)).toHaveLength(1);
  });

  it('a kill switch engaged on the verifier: every item left out kill_switch_engaged, nothing signed', async () => {
    const rows = [await held(1), await held(2)];
    expect((await verifier.admin('POST', '/v1/admin/kill', { scope: 'global' })).statusCode).toBeLessThan(300);
    try {
      const answer = await approveBatch(rows.map(shown));
      expect(answer.items.map((r) => (r.outcome === 'left_out' ? r.reason : r.outcome))).toEqual(['kill_switch_engaged', 'kill_switch_engaged']);
      expect((await db().actions.toArray()).every((r) => r.token === null && r.state === 'held')).toBe(true);
    } finally {
      await verifier.admin('DELETE', '/v1/admin/kill', { scope: 'global' });
    }
  });

  it.each([
    ['a content script (the page\'s own tab)', { id: fakeBrowser.runtime.id, url: 'http://127.0.0.1:8080/t/1', origin: 'http://127.0.0.1:8080', tab: { id: 1 }, frameId: 0 }],
    ['the options page', { id: fakeBrowser.runtime.id, url: `chrome-extension://${fakeBrowser.runtime.id}/options.html`, origin: `chrome-extension://${fakeBrowser.runtime.id}`, tab: { id: 4 } }],
  ])('attack: %s sends ui-bg:approve-batch: refused before anything runs, nothing signed', async (_name, sender) => {
    const rows = [await held(1), await held(2)];
    const self = { id: fakeBrowser.runtime.id, origin: `chrome-extension://${fakeBrowser.runtime.id}` };
    const outcome = await dispatch('ui-bg:approve-batch', { items: rows.map(shown) }, sender, approvalHandlers['ui-bg:approve-batch'], self);
    expect(outcome).toMatchObject({ ok: false, code: 'sender_refused' });
    expect((await db().actions.toArray()).every((r) => r.token === null && r.state === 'held')).toBe(true);
    expect(releases()).toEqual([]);
  });

  it('an unreachable verifier: every item left out verifier_unavailable, nothing signed', async () => {
    await fakeBrowser.storage.managed.set({ protectedSites: ['http://127.0.0.1:8080/*'], adapters: JSON.stringify(demoAdapters()), verifierUrl: 'http://127.0.0.1:9' });
    const rows = [await held(1), await held(2)];
    const answer = await approveBatch(rows.map(shown));
    expect(answer.items.map((r) => (r.outcome === 'left_out' ? r.reason : r.outcome))).toEqual(['verifier_unavailable', 'verifier_unavailable']);
    expect(releases()).toEqual([]);
  });
});
