// S-06 in real Chromium: the browser is closed with actions held and started again on the same profile.
// The queue lives in IndexedDB (strict durability), so every held action is still there, still held,
// listed in the popup and counted on the toolbar; nothing of it lives in storage.session, and nothing
// reached the tools.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '../../helpers/browser/fixtures';
import { ConsolePage } from '../../helpers/browser/pages/demo-pages';
import { PopupPage } from '../../helpers/browser/pages/extension-pages';
import { launchWithExtension } from '../../helpers/browser/browser';
import type { ExtensionBrowser } from '../../helpers/browser/browser';
import { removeManagedPolicy, writeManagedPolicy } from '../../helpers/browser/managed-policy';
import { demoPolicy, waitForProtection } from '../../helpers/browser/protection';
import { recordFaults } from '../../helpers/tally';
import { ExtensionStore } from '../../helpers/browser/extension-store';
import { forumAsAlice } from '../../helpers/browser/observe';

test('S-06 browser restarted with two actions held: both still held, listed and counted; the queue is not in storage.session; nothing reached the tools', async ({ stack }) => {
  const profile = mkdtempSync(join(tmpdir(), 'cs-restart-'));
  writeManagedPolicy(demoPolicy(stack));
  let browser: ExtensionBrowser | null = null;
  let store: ExtensionStore | null = null;
  try {
    browser = await launchWithExtension({ profile });
    await waitForProtection(browser);
    const forum = await forumAsAlice(browser, stack);
    const repliesBefore = stack.demo.store.listReplies(1).length;
    await forum.askAssistant();
    const accessConsole = new ConsolePage(await browser.context.newPage(), stack.consoleUrl);
    await accessConsole.signIn('alice');
    await accessConsole.openDataset('payroll-2026');
    await accessConsole.applySuggestion();
    store = new ExtensionStore(browser);
    await expect.poll(async () => (await store!.actions()).map((r) => r.state), { timeout: 15_000 }).toEqual(['held', 'held']);
    const held = await store.actions();
    const logBefore = await store.log();
    await store.close();

    await browser.close();
    browser = await launchWithExtension({ profile });
    await waitForProtection(browser);

    store = new ExtensionStore(browser);
    const after = await store.actions();
    const lost = held.filter((h) => !after.some((a) => a.id === h.id && a.state === 'held' && a.digest === h.digest && a.expiresAt === h.expiresAt)).length;
    // The log survived too: the same chain, event for event.
    const logAfter = await store.log();
    expect(logAfter.slice(0, logBefore.length).map((e) => e.hash)).toEqual(logBefore.map((e) => e.hash));

    const popup = await PopupPage.open(browser);
    await popup.action('agent:forum-helper', 'forum.post').waitFor({ timeout: 15_000 });
    await popup.action('agent:access-helper', 'admin.acl.write').waitFor({ timeout: 15_000 });
    await expect.poll(() => browser!.context.serviceWorkers().at(-1)!.evaluate(() => chrome.action.getBadgeText({})), { timeout: 15_000 }).toBe('2');
    // Memory-only storage is empty after a restart: the queue never depended on it.
    const session = await browser.context.serviceWorkers().at(-1)!.evaluate(() => chrome.storage.session.get(null));
    for (const h of held) expect(JSON.stringify(session)).not.toContain(h.id);

    const unauthorized = stack.demo.store.listReplies(1).length - repliesBefore + (stack.demo.store.datasetAccess('payroll-2026')?.visibility === 'team-only' ? 0 : 1);
    recordFaults('S-06 browser restart with actions held', 1, lost, unauthorized);
    expect(after.map((a) => a.id).sort()).toEqual(held.map((h) => h.id).sort());
    expect(lost).toBe(0);
    expect(unauthorized).toBe(0);
  } finally {
    await store?.close();
    await browser?.close();
    removeManagedPolicy();
    rmSync(profile, { recursive: true, force: true });
  }
});
