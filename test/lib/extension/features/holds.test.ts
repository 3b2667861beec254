// The background's hold handlers, driven as the router calls them (data, sender facts): the tab's
// report moves the action as the transition table says — released only when approved, failed when the
// tool refused it (HTTP ≥ 400), a report for a held action or another tab's changes nothing — and a
// navigation fails what is held, not what is approved. Node only (tests: fakeBrowser, fake IndexedDB).
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { approveAction } from '@/lib/extension/approvals';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import type { PendingActionRow } from '@/lib/extension/db';
import { deviceKey } from '@/lib/extension/device-key';
import { holdHandlers } from '@/lib/extension/features/holds';
import { failActionsOfTab, proposeAction } from '@/lib/extension/held-actions';
import { killState } from '@/lib/extension/kill-switch';
import { listLog } from '@/lib/extension/log';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import type { ProposalInput } from '@/lib/messaging/contract';
import { FORUM_PAGE, forumReplyProposal } from '../../../helpers/proposals';
import { demoAdapters } from '../../../../demo/adapters';

const PAGE = FORUM_PAGE;
const TAB = 7;
const proposal: ProposalInput = { ...forumReplyProposal };
const view = effectivePolicy({ protectedSites: ['http://127.0.0.1:8080/*'], adapters: JSON.stringify(demoAdapters()), verifierUrl: 'http://verifier.test' }, {});
const fromTab = (tabId = TAB) => ({ id: 'ext', url: PAGE, tab: { id: tabId }, frameId: 0 });

beforeEach(async () => {
  fakeBrowser.reset();
  useDatabase(new CountersignDb(`cs-holds-${crypto.randomUUID()}`));
  const key = await deviceKey();
  await db().enrollment.put({ id: 'current', verifierUrl: 'http://verifier.test', deviceId: 'device-1', userId: 'alice', kid: key.kid, label: 't', enrolledAt: Date.now() });
  await db().chain.put({ id: 'chain', deviceId: 'device-1', epoch: 1, head: null });
});

const held = () => proposeAction(proposal, { view, pageUrl: PAGE, tabId: TAB, userId: 'alice', now: Date.now() });
async function approved(): Promise<PendingActionRow> {
  const row = await held();
  const status = { url: 'http://verifier.test', reachable: true, engaged: false, entries: [], policyVersion: 'x', checkedAt: Date.now(), error: null };
  return approveAction(row.id, { policy: view.policy, kill: killState(view.policy, status), verifierReachable: true, failClosed: [], now: Date.now() });
}
const report = (data: Parameters<typeof holdHandlers['cs-bg:release-result']>[0], tabId = TAB) => holdHandlers['cs-bg:release-result'](data, fromTab(tabId));
const trail = async (row: PendingActionRow) => (await listLog({ trace: row.spec.trc })).map((e) => [e.type, e.detail?.status ?? null, e.detail?.reason ?? null]);

describe('the tab\'s report (cs-bg:release-result)', () => {
  it('an approved action the tool took (HTTP 201) ends released, with its status', async () => {
    const row = await approved();
    expect(await report({ actionId: row.id, outcome: 'released', status: 201 })).toEqual({ state: 'released' });
    expect((await trail(row)).at(-1)).toEqual(['released', 201, null]);
  });

  it('an approved action the tool refused (HTTP 403) ends failed, with the status and why: never released', async () => {
    const row = await approved();
    expect(await report({ actionId: row.id, outcome: 'released', status: 403 })).toEqual({ state: 'failed' });
    expect(await db().actions.get(row.id)).toMatchObject({ state: 'failed', reason: 'the tool refused the released request (HTTP 403)' });
    expect((await trail(row)).at(-1)).toEqual(['failed', 403, 'the tool refused the released request (HTTP 403)']);
  });

  it('a release reported for an action never approved changes nothing (the page cannot release what the owner did not sign)', async () => {
    const row = await held();
    expect(await report({ actionId: row.id, outcome: 'released', status: 200 })).toEqual({ state: 'held' });
    expect(await report({ actionId: row.id, outcome: 'released', status: 500 })).toEqual({ state: 'held' });
    expect((await trail(row)).map(([type]) => type)).toEqual(['proposed', 'held']);
  });

  it('a failure ends a held or an approved action failed, with the tab\'s reason; a second report changes nothing', async () => {
    const a = await held();
    expect(await report({ actionId: a.id, outcome: 'failed', reason: 'the page changed the form' })).toEqual({ state: 'failed' });
    const b = await approved();
    expect(await report({ actionId: b.id, outcome: 'failed' })).toEqual({ state: 'failed' });
    expect((await trail(b)).at(-1)).toEqual(['failed', null, 'failed']);
    expect(await report({ actionId: b.id, outcome: 'released', status: 200 })).toEqual({ state: 'failed' });
    expect((await listLog({ trace: b.spec.trc })).filter((e) => e.type === 'failed')).toHaveLength(1);
  });

  it('another tab\'s report about this action is refused: not_found, nothing changes', async () => {
    const row = await approved();
    await expect(report({ actionId: row.id, outcome: 'released', status: 200 }, TAB + 1)).rejects.toMatchObject({ code: 'not_found' });
    expect((await db().actions.get(row.id))?.state).toBe('approved');
  });

  it('updates the toolbar count', async () => {
    const row = await held();
    await fakeBrowser.action.setBadgeText({ text: '1' });
    await report({ actionId: row.id, outcome: 'failed' });
    expect(await fakeBrowser.action.getBadgeText({})).toBe('');
  });
});

describe('the tab going away', () => {
  it('a navigation fails what waits for approval and leaves an approved action to its release', async () => {
    const a = await held();
    const b = await approved();
    const ended = await failActionsOfTab(TAB, 'the page navigated away before approval', Date.now(), 'navigate');
    expect(ended.map((r) => r.id)).toEqual([a.id]);
    expect((await db().actions.get(b.id))?.state).toBe('approved');
  });

  it('a closed tab fails both', async () => {
    const a = await held();
    const b = await approved();
    const ended = await failActionsOfTab(TAB, 'the tab was closed before release', Date.now());
    expect(ended.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
  });
});

describe('a new hold and the policy bots (cs-bg:propose)', () => {
  const propose = () => holdHandlers['cs-bg:propose'](proposal, fromTab());
  async function plansAsked(managed: Record<string, unknown>): Promise<string[]> {
    await fakeBrowser.storage.managed.set({ protectedSites: ['http://127.0.0.1:8080/*'], adapters: JSON.stringify(demoAdapters()), verifierUrl: 'http://verifier.test', ...managed });
    const asked: string[] = [];
    const real = globalThis.fetch;
    globalThis.fetch = (async (input: RequestInfo | URL) => {
      asked.push(String(input instanceof Request ? input.url : input));
      throw new TypeError('no network in this test');
    }) as typeof fetch;
    try {
      await propose();
    } finally {
      globalThis.fetch = real;
    }
    return asked.filter((u) => u.endsWith('/v1/approval-plan'));
  }

  it('asks the verifier for the plan (a bot may approve it)', async () => {
    expect(await plansAsked({})).toHaveLength(1);
  });

  it('attack: under the admin\'s kill switch no bot approval is even asked for, so nothing can be released', async () => {
    expect(await plansAsked({ killSwitch: true })).toEqual([]);
    expect((await db().actions.toArray()).map((r) => r.state)).toEqual(['held']);
  });
});
