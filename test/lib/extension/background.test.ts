// The background as its entrypoint's main() starts it, under fakeBrowser: every message it answers is
// registered (and goes through the router's sender check), the three alarms every 30 s, re-delivery
// on wake (S-03, a gone tab failing the action), the tab listeners (a window closing keeps what its
// tabs held, S-06; a navigation fails only what waits for approval) and the expiry alarm.
// main() runs once per file: the messenger takes one listener per message. Node only (tests).
import 'fake-indexeddb/auto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import background from '@/entrypoints/background';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import type { PendingActionRow } from '@/lib/extension/db';
import { ALARMS } from '@/lib/extension/features/alarms';
import { TO_BACKGROUND } from '@/lib/messaging/contract';

type Sent = [tabId: number, message: { type: string; data: unknown }];
const sent: Sent[] = [];
/** Tabs whose content script is gone: Chrome calls back with no answer. */
const goneTabs = new Set<number>([6]);

let n = 0;
function action(over: Partial<PendingActionRow>): PendingActionRow {
  const now = Date.now();
  return {
    id: `action-${++n}`,
    state: 'held',
    spec: { trc: `trace-${n}`, tool: 'intraforum', scope: 'forum.post', agent: 'agent:forum-helper', request: { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/1/replies', contentType: 'application/json', body: '{}' }, content: null, diff: null, signals: ['assistant-marker'] },
    digest: 'A'.repeat(43),
    site: 'http://127.0.0.1:8080',
    tabId: 1,
    createdAt: now,
    expiresAt: now + 120_000,
    token: null,
    reason: null,
    updatedAt: now,
    ...over,
  };
}
/** The tab onUpdated reports (only its id is read). */
const tab = (id: number) => ({ id, index: 0, highlighted: false, active: true, pinned: false, incognito: false });
const stateOf = async (id: string) => (await db().actions.get(id))?.state;

/** A message as the messenger sends it, from `sender`; resolves with the router's reply. */
function ask(type: string, data: unknown, sender: object): Promise<unknown> {
  return new Promise((resolve) => {
    const trigger = fakeBrowser.runtime.onMessage.trigger as (...args: unknown[]) => Promise<unknown>;
    void trigger({ id: ++n, type, data, timestamp: Date.now() }, sender, (answer: { res: unknown }) => resolve(answer.res));
  });
}
const ORIGIN = `chrome-extension://${fakeBrowser.runtime.id}`;

const woken = { delivered: action({ state: 'approved', token: 'token-5', tabId: 5 }), gone: action({ state: 'approved', token: 'token-6', tabId: 6 }) };

beforeAll(async () => {
  fakeBrowser.reset();
  useDatabase(new CountersignDb(`cs-background-${crypto.randomUUID()}`));
  Object.assign(fakeBrowser.tabs, {
    sendMessage: vi.fn((tabId: number, message: Sent[1], _options: unknown, answer: (response: unknown) => void) => {
      sent.push([tabId, message]);
      answer(goneTabs.has(tabId) ? undefined : { res: undefined });
    }),
  });
  // Registration is content-scripts.test.ts's: here Chrome takes everything.
  Object.assign(fakeBrowser.scripting, { getRegisteredContentScripts: async () => [], registerContentScripts: async () => undefined, unregisterContentScripts: async () => undefined });
  await db().actions.bulkAdd([woken.delivered, woken.gone]);
  background.main();
  await vi.waitFor(async () => expect(await stateOf(woken.gone.id)).toBe('failed'));
});

describe('waking', () => {
  it('S-03: an approved action\'s stored token is delivered again to its tab, the same token', () => {
    expect(sent).toContainEqual([5, expect.objectContaining({ type: 'bg-cs:release', data: { actionId: woken.delivered.id, tokens: ['token-5'] } })]);
  });

  it('a tab that is gone ends its approved action failed, saying so', async () => {
    expect(await db().actions.get(woken.gone.id)).toMatchObject({ state: 'failed', reason: 'the tab that held it is gone' });
    expect(await stateOf(woken.delivered.id)).toBe('approved');
  });

  it('creates the log-sync, verifier-status and expiry alarms, every 30 s', async () => {
    const alarms = await fakeBrowser.alarms.getAll();
    expect(alarms.map((a) => [a.name, a.periodInMinutes]).sort()).toEqual(Object.values(ALARMS).map((name) => [name, 0.5]).sort());
  });
});

describe('messages', () => {
  it('every message the background answers is registered, and checks its sender first', async () => {
    for (const type of TO_BACKGROUND) {
      expect(await ask(type, {}, { id: 'another-extension', url: 'https://evil.example/' }), type).toMatchObject({ ok: false, code: 'sender_refused' });
    }
  });

  it('the popup\'s check of the kill switch reaches its handler (no verifier configured: nothing engaged)', async () => {
    expect(await ask('ui-bg:check-kill-switch', {}, { id: fakeBrowser.runtime.id, url: `${ORIGIN}/popup.html`, origin: ORIGIN })).toEqual({ ok: true, value: { engaged: false, reasons: [], verifier: expect.objectContaining({ engaged: false }) } });
  });

  it('E-01: a content script\'s approval is refused, and the action stays held', async () => {
    const row = action({ tabId: 40 });
    await db().actions.add(row);
    expect(await ask('ui-bg:approve', { actionId: row.id }, { id: fakeBrowser.runtime.id, url: 'http://127.0.0.1:8080/t/1', tab: { id: 40 }, frameId: 0 })).toMatchObject({ ok: false, code: 'sender_refused' });
    expect(await stateOf(row.id)).toBe('held');
  });
});

describe('tabs', () => {
  it('S-06: a window closing (the browser quitting) keeps what its tabs held', async () => {
    const row = action({ tabId: 10 });
    await db().actions.add(row);
    await fakeBrowser.tabs.onRemoved.trigger(10, { windowId: 1, isWindowClosing: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await stateOf(row.id)).toBe('held');
  });

  it('a closed tab fails what it held and what was approved in it', async () => {
    const [held, approved] = [action({ tabId: 11 }), action({ tabId: 11, state: 'approved', token: 't' })];
    await db().actions.bulkAdd([held, approved]);
    await fakeBrowser.tabs.onRemoved.trigger(11, { windowId: 1, isWindowClosing: false });
    await vi.waitFor(async () => expect([await stateOf(held.id), await stateOf(approved.id)]).toEqual(['failed', 'failed']));
    expect((await db().actions.get(held.id))?.reason).toBe('the tab was closed before release');
  });

  it('a reload or navigation fails what waits for approval, not what is approved (it may be its own release)', async () => {
    const [held, approved] = [action({ tabId: 12 }), action({ tabId: 12, state: 'approved', token: 't' })];
    await db().actions.bulkAdd([held, approved]);
    await fakeBrowser.tabs.onUpdated.trigger(12, { status: 'complete' }, tab(12));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await stateOf(held.id)).toBe('held');
    await fakeBrowser.tabs.onUpdated.trigger(12, { status: 'loading' }, tab(12));
    await vi.waitFor(async () => expect(await stateOf(held.id)).toBe('failed'));
    expect((await db().actions.get(held.id))?.reason).toBe('the page navigated away before approval');
    expect(await stateOf(approved.id)).toBe('approved');
  });
});

describe('the expiry alarm', () => {
  it('ends a held action past its time to live expired and tells its tab', async () => {
    const row = action({ tabId: 20, expiresAt: Date.now() - 1 });
    await db().actions.add(row);
    await fakeBrowser.alarms.onAlarm.trigger({ name: ALARMS.expiry, scheduledTime: Date.now() });
    await vi.waitFor(async () => expect(await stateOf(row.id)).toBe('expired'));
    await vi.waitFor(() => expect(sent).toContainEqual([20, expect.objectContaining({ type: 'bg-cs:settle', data: { actionId: row.id, outcome: 'expired', message: 'not approved within its time to live' } })]));
  });
});
