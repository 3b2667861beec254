// S-07 in real Chromium: the extension is updated while an action is held — the browser closes, the
// extension's folder gets a new version, and the browser starts again on the same profile, so Chrome
// loads the new version (onInstalled "update", a new service worker). The queue, the log chain and the
// device key live in IndexedDB: after the update the action is still held and listed, the key has the
// same kid and is still non-extractable and able to sign, and the owner can still end the action.
// (chrome.runtime.reload() is no substitute here: headless Chromium unloads a command-line extension
// and does not load it again.)
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'playwright-core';
import { expect, test } from '../../helpers/browser/fixtures';
import { PopupPage } from '../../helpers/browser/pages/extension-pages';
import { EXTENSION_DIR, launchWithExtension } from '../../helpers/browser/browser';
import type { ExtensionBrowser } from '../../helpers/browser/browser';
import { removeManagedPolicy, writeManagedPolicy } from '../../helpers/browser/managed-policy';
import { demoPolicy, waitForProtection } from '../../helpers/browser/protection';
import { recordFaults } from '../../helpers/tally';
import { ExtensionStore } from '../../helpers/browser/extension-store';
import { forumAsAlice } from '../../helpers/browser/observe';

/** What the reloaded worker finds of its device key: the kid, whether it exports, and whether it signs verifiably. */
function probeDeviceKey(worker: Worker): Promise<{ kid: string; extractable: boolean; usages: string[]; exportRefused: boolean; signs: boolean }> {
  return worker.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('countersign');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const read = open.result.transaction('keys').objectStore('keys').getAll();
          read.onerror = () => reject(read.error);
          read.onsuccess = async () => {
            const row = (read.result as Array<{ kid: string; privateKey: CryptoKey; publicJwk: JsonWebKey }>)[0]!;
            open.result.close();
            const data = new TextEncoder().encode('S-07 probe');
            const algorithm = { name: 'ECDSA', hash: 'SHA-256' };
            const signature = await crypto.subtle.sign(algorithm, row.privateKey, data);
            const publicKey = await crypto.subtle.importKey('jwk', row.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
            const exportRefused = await crypto.subtle.exportKey('pkcs8', row.privateKey).then(
              () => false,
              () => true,
            );
            resolve({
              kid: row.kid,
              extractable: row.privateKey.extractable,
              usages: [...row.privateKey.usages],
              exportRefused,
              signs: await crypto.subtle.verify(algorithm, publicKey, signature, data),
            });
          };
        };
      }),
  );
}

test('S-07 the extension updated mid-queue: the held action, its log and the device key survive in the new version; the owner can still end it', async ({ stack }) => {
  const root = mkdtempSync(join(tmpdir(), 'cs-update-'));
  const profile = join(root, 'profile');
  const extensionDir = join(root, 'extension');
  cpSync(EXTENSION_DIR, extensionDir, { recursive: true });
  writeManagedPolicy(demoPolicy(stack));
  let browser: ExtensionBrowser | null = null;
  let store: ExtensionStore | null = null;
  try {
    browser = await launchWithExtension({ profile, extensionDir });
    await waitForProtection(browser);
    const forum = await forumAsAlice(browser, stack);
    const repliesBefore = stack.demo.store.listReplies(1).length;
    await forum.askAssistant();
    store = new ExtensionStore(browser);
    await expect.poll(async () => (await store!.actions()).map((r) => r.state), { timeout: 15_000 }).toEqual(['held']);
    const [held] = await store.actions();
    const logBefore = await store.log();
    const keyBefore = await probeDeviceKey(browser.serviceWorker);
    const versionBefore = await browser.serviceWorker.evaluate(() => chrome.runtime.getManifest().version);
    await store.close();
    await browser.close();

    // The update: a new version in the same folder, picked up when the browser starts again.
    const manifestFile = join(extensionDir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { version: string };
    const version = `${manifest.version}.1`;
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, version }));
    browser = await launchWithExtension({ profile, extensionDir });
    await waitForProtection(browser);
    expect(await browser.serviceWorker.evaluate(() => chrome.runtime.getManifest().version)).toBe(version);
    expect(version).not.toBe(versionBefore);

    store = new ExtensionStore(browser);
    const after = await store.actions();
    const lost = after.some((a) => a.id === held!.id && a.state === 'held' && a.digest === held!.digest) ? 0 : 1;
    expect(after.map((a) => [a.id, a.state])).toEqual([[held!.id, 'held']]);
    const logAfter = await store.log();
    expect(logAfter.slice(0, logBefore.length).map((e) => e.hash)).toEqual(logBefore.map((e) => e.hash));
    const keyAfter = await probeDeviceKey(browser.serviceWorker);
    expect(keyAfter).toEqual(keyBefore);
    expect(keyAfter).toMatchObject({ extractable: false, usages: ['sign'], exportRefused: true, signs: true });

    // The new version's background serves the old queue: the item is listed, and the owner's reject ends it, logged.
    const popup = await PopupPage.open(browser);
    await popup.action('agent:forum-helper', 'forum.post').waitFor({ timeout: 15_000 });
    await popup.reject('agent:forum-helper', 'forum.post', 'checked after the update');
    await expect.poll(async () => (await store!.actions()).map((r) => r.state), { timeout: 15_000 }).toEqual(['rejected']);
    expect((await store.log()).filter((e) => e.trc === held!.spec.trc).map((e) => e.type)).toContain('rejected');

    const unauthorized = stack.demo.store.listReplies(1).length - repliesBefore;
    recordFaults('S-07 extension updated with an action held', 1, lost, unauthorized);
    expect(lost).toBe(0);
    expect(unauthorized).toBe(0);
  } finally {
    await store?.close();
    await browser?.close();
    removeManagedPolicy();
    rmSync(root, { recursive: true, force: true });
  }
});
