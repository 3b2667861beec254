// A verifier outage in real Chromium (issue 9; S-10): the verifier stops while one action is approved
// and on its way to the tool and another is held. The tool answers 503 and stores nothing; the popup
// signs nothing while the verifier cannot be reached; the service worker is stopped twice meanwhile.
// When the verifier is back, the alarm-driven log sync resumes and the verifier holds every event of
// the extension's chain exactly once, and the held action is approved and released once.
import Database from 'better-sqlite3';
import type { Route } from 'playwright-core';
import { verifyChain } from '@/lib/protocol';
import type { LogEvent } from '@/lib/protocol';
import { expect, test } from '../../helpers/browser/fixtures';
import { PopupPage } from '../../helpers/browser/pages/extension-pages';
import type { Stack } from '../../helpers/browser/stack';
import { recordFaults } from '../../helpers/tally';
import { ExtensionStore } from '../../helpers/browser/extension-store';
import { assistantStatus, claimsOf, decisionsFor, forumAsAlice, watchReleases } from '../../helpers/browser/observe';
import { WorkerControl } from '../../helpers/browser/worker-control';

const AGENT = 'agent:forum-helper';
const SCOPE = 'forum.post';

/** The verifier's stored copy of one device's chain, read from its SQLite file. */
function storedChain(stack: Stack, deviceId: string): LogEvent[] {
  const db = new Database(stack.verifierDatabaseFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT event FROM log_events WHERE device_id = ? ORDER BY epoch, seq').all(deviceId) as Array<{ event: string }>;
    return rows.map((r) => JSON.parse(r.event) as LogEvent);
  } finally {
    db.close();
  }
}

test('outage: verifier down with one action approved and one held → the tool answers 503, nothing is released or signed; back up → sync resumes with no loss or duplicate (S-10)', { timeout: 240_000 }, async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  const control = await WorkerControl.open(browser);
  const store = new ExtensionStore(browser);
  const releases = watchReleases(forum.page);
  const repliesBefore = stack.demo.store.listReplies(1).length;
  let faults = 0;
  try {
    // Everything so far (enrolment, policy) reached the verifier.
    await expect.poll(async () => (await store.log()).filter((e) => e.synced === 0).length, { timeout: 15_000 }).toBe(0);

    // A: approved while the verifier is up; its release is held on the wire until the verifier is down.
    let wireHeld!: (route: Route) => void;
    const atTheWire = new Promise<Route>((resolve) => (wireHeld = resolve));
    await forum.page.route(`${stack.forumUrl}/api/topics/1/replies`, (route) => wireHeld(route));
    await forum.askAssistant();
    const popup = await PopupPage.open(browser);
    await popup.action(AGENT, SCOPE).waitFor({ timeout: 15_000 });
    await popup.approve(AGENT, SCOPE);
    const route = await atTheWire;
    const [a] = await store.actions();
    const tokenA = route.request().headers()['countersign-approval']!;
    expect(claimsOf(tokenA).trc).toBe(a!.spec.trc);

    await stack.stopVerifier();
    faults++;
    await route.continue();
    await expect.poll(() => assistantStatus(forum), { timeout: 20_000 }).toMatch(/^Refused: verifier_unavailable/);
    await forum.page.unroute(`${stack.forumUrl}/api/topics/1/replies`);
    expect(stack.demo.store.listReplies(1).length).toBe(repliesBefore);

    // B: proposed during the outage; holding needs no verifier, signing does.
    await forum.askAssistant();
    await popup.page.reload();
    await popup.action(AGENT, SCOPE).waitFor({ timeout: 15_000 });
    await popup.approve(AGENT, SCOPE);
    await expect.poll(() => popup.action(AGENT, SCOPE).getByRole('alert').textContent(), { timeout: 15_000 }).toContain('verifier cannot be reached');
    const b = (await store.actions()).find((r) => r.id !== a!.id)!;
    expect(b.state).toBe('held');
    expect(b.token).toBeNull();
    await popup.page.close();

    // The worker is stopped twice during the outage; events wait in IndexedDB, unsynced.
    for (let i = 0; i < 2; i++) {
      await control.stop();
      await control.wake();
    }
    const unsynced = (await store.log()).filter((e) => e.synced === 0);
    expect(unsynced.map((e) => e.type)).toEqual(expect.arrayContaining(['approved', 'failed', 'proposed', 'held']));

    // Back up: the sync alarm (every 30 s, after its back-off) sends what waited; nothing forced.
    await stack.startVerifier();
    await expect.poll(async () => (await store.log()).filter((e) => e.synced === 0).length, { timeout: 150_000, interval: 2000 }).toBe(0);
    const local = (await store.log()).map(({ synced: _s, ...e }) => e);
    const deviceId = local[0]!.deviceId;
    const remote = storedChain(stack, deviceId);
    expect(remote.map((e) => e.hash)).toEqual(local.map((e) => e.hash));
    expect(new Set(remote.map((e) => `${e.epoch}:${e.seq}`)).size).toBe(remote.length);
    // The stored chain verifies from genesis (throws on a gap, fork or rewrite) up to the local head.
    expect((await verifyChain(deviceId, remote))?.hash).toBe(local.at(-1)!.hash);

    // A's token never reached a verifier, and a verifier that restarted refuses it (boot epoch).
    expect(await decisionsFor(stack, a!.spec.trc)).toEqual([]);
    const replay = await fetch(new URL('/v1/verify', stack.verifierUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: tokenA, request: a!.spec.request, scope: a!.spec.scope }),
    });
    expect(replay.status).toBe(403);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('token_expired');
    // The extension recorded A honestly: sent, refused with 503, so it ended failed, never released.
    expect(local.filter((e) => e.trc === a!.spec.trc && e.type === 'released')).toEqual([]);
    expect(local.filter((e) => e.trc === a!.spec.trc && e.type === 'failed').map((e) => e.detail?.status)).toEqual([503]);

    // B is approved now, and released once.
    const again = await PopupPage.open(browser);
    await again.action(AGENT, SCOPE).waitFor({ timeout: 15_000 });
    await again.approve(AGENT, SCOPE);
    await expect.poll(() => assistantStatus(forum), { timeout: 20_000 }).toBe('Posted');
    expect(await decisionsFor(stack, b.spec.trc)).toEqual(['allow']);
    expect(stack.demo.store.listReplies(1).length).toBe(repliesBefore + 1);
    expect(releases.tokens.map((t) => claimsOf(t).trc)).toEqual([a!.spec.trc, b.spec.trc]);

    faults += control.stops;
    // Lost: events the verifier does not hold, and either action gone or not in its expected terminal state
    // (A failed with the tool's 503, B released).
    const rows = await store.actions();
    const ended = [[a!.id, 'failed'], [b.id, 'released']] as const;
    const lost = local.filter((e) => !remote.some((r) => r.hash === e.hash)).length + ended.filter(([id, state]) => !rows.some((r) => r.id === id && r.state === state)).length;
    const duplicates = remote.length - new Set(remote.map((e) => e.hash)).size;
    // Replies stored without an allow decision (the outage must not let one through), and events stored twice.
    const unauthorized = Math.max(0, stack.demo.store.listReplies(1).length - repliesBefore - 1) + duplicates;
    recordFaults('outage: verifier stopped with actions held and approved; S-10 sync resumes', faults, lost, unauthorized);
    expect(lost).toBe(0);
    expect(unauthorized).toBe(0);
  } finally {
    await store.close();
    await control.close();
  }
});
