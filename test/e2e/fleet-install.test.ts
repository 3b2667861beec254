// A fleet deployment end to end in real Chromium: `npm run package` packs the build and signs the CRX
// with a fleet key made for this run, the kit is served over loopback as an admin self-hosts it, and the
// policy comes from `npm run admin -- policy-template chromium-linux --package`. Chromium starts without
// --load-extension: the extension arrives only through ExtensionInstallForcelist. Checked: it installs
// under the key's id and reads every managed value back; on a fleet machine no CDP client reaches its
// pages; a swapped or corrupted CRX on the update server installs nothing.
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { EXTENSION_ID } from '@/lib/extension-identity';
import { artifactNames, signerIdentity } from '../../server/admin/extension-package';
import type { PackageInfo } from '../../server/admin/extension-package';
import { writePackage } from '../../server/admin/write-package';
import { policyTemplateCli } from '../helpers/policy-template-cli';
import { EXTENSION_DIR } from '../helpers/browser/browser';
import { launchFleetChromium, serveKit } from '../helpers/browser/fleet';
import type { FleetBrowser, KitServer } from '../helpers/browser/fleet';
import { MANAGED_POLICY_DIR, removeManagedPolicy, setManagedPoliciesAside } from '../helpers/browser/managed-policy';
import { OptionsPage } from '../helpers/browser/pages/extension-pages';

const POLICY_FILE = join(MANAGED_POLICY_DIR, 'countersign-fleet-e2e.json');
/** A test rig's own policy, never a fleet's: lets the driver attach to the force-installed extension's pages. */
const RIG_FILE = join(MANAGED_POLICY_DIR, 'countersign-fleet-rig.json');

const POLICY = {
  verifierUrl: 'http://127.0.0.1:9',
  protectedSites: ['https://forum.corp.example/*'],
  blockedSites: ['https://payroll.corp.example/*'],
  approvalTtlSeconds: 300,
  strictMode: true,
  verifierPolicy: 'off',
};

let work: string;
let kitDir: string;
let kit: KitServer;
let info: PackageInfo;
let signerKey: string;
let putBack: () => void = () => undefined;
let browser: FleetBrowser | undefined;

function newKey(file: string): void {
  writeFileSync(file, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
}

/** Writes a managed-policy file for this id and URL as the admin CLI generates it from the kit. */
async function writeFleetPolicy(kitPath: string): Promise<void> {
  const policyFile = join(work, 'fleet-policy.json');
  writeFileSync(policyFile, JSON.stringify(POLICY));
  const { code, err } = await policyTemplateCli(['chromium-linux', '--policy', policyFile, '--package', kitPath, '--out', POLICY_FILE]);
  expect(code, err).toBe(0);
}

/** Waits until Chromium has recorded the outcome of a force-install that failed (its own histogram). */
async function forceInstallFailure(fleet: FleetBrowser): Promise<string> {
  const page = await fleet.context.newPage();
  let text = '';
  await expect
    .poll(
      async () => {
        await page.goto('chrome://histograms/Extensions.ForceInstalledFailureReason3');
        text = (await page.textContent('body')) ?? '';
        return /Histogram: Extensions\.ForceInstalledFailureReason3 recorded [1-9]/.test(text);
      },
      { timeout: 30_000, interval: 500 },
    )
    .toBe(true);
  await page.close();
  return text;
}

beforeAll(async () => {
  removeManagedPolicy();
  putBack = setManagedPoliciesAside();
  work = mkdtempSync(join(tmpdir(), 'cs-fleet-kit-'));
  kitDir = join(work, 'kit');
  kit = await serveKit(kitDir);
  const keyPath = join(work, 'fleet-key.pem');
  newKey(keyPath);
  signerKey = signerIdentity(createPrivateKey(readFileSync(keyPath))).key;
  info = await writePackage({ chromiumDir: EXTENSION_DIR, firefoxDir: join(EXTENSION_DIR, '..', 'firefox-mv3'), outDir: kitDir, keyPath, baseUrl: kit.baseUrl });
  await writeFleetPolicy(kitDir);
});

afterEach(async () => {
  await browser?.close();
  browser = undefined;
  rmSync(RIG_FILE, { force: true });
});

afterAll(async () => {
  try {
    await kit?.close();
    rmSync(POLICY_FILE, { force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  } finally {
    putBack();
  }
});

it('the generated policy force-installs the signed CRX from the self-hosted update manifest, under the fleet key\'s id, and every managed value reads back', async () => {
  expect(info.chromium.id).not.toBe(EXTENSION_ID);
  writeFileSync(RIG_FILE, JSON.stringify({ DeveloperToolsAvailability: 1 }));
  browser = await launchFleetChromium();
  const worker = browser.context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${info.chromium.id}/`)) ??
    (await browser.context.waitForEvent('serviceworker', { predicate: (w) => w.url().startsWith(`chrome-extension://${info.chromium.id}/`), timeout: 60_000 }));

  // Chromium asked the update manifest as a policy install, then fetched the CRX it names.
  const manifestAsk = kit.requests.find((r) => r.startsWith('/kit/update.xml?'));
  expect(decodeURIComponent(manifestAsk ?? '')).toContain(`id=${info.chromium.id}&v=0.0.0.0&installsource=notfromwebstore&installedby=policy`);
  expect(kit.requests).toContain(`/kit/${info.chromium.crx.file}`);

  // The installed copy: the fleet key's public half and the kit's update URL, so later updates come from it too.
  const installed = JSON.parse(readFileSync(join(browser.installedDir(info.chromium.id, info.version)!, 'manifest.json'), 'utf8')) as { key: string; update_url: string; version: string };
  expect(installed).toMatchObject({ key: signerKey, update_url: `${kit.baseUrl}update.xml`, version: info.version });

  // Managed storage arrives keyed by the new id, with the schema's types (Chromium fills it shortly
  // after the install, so it is asked until it does); the hold scripts follow it.
  await expect.poll(() => worker.evaluate(() => chrome.storage.managed.get()), { timeout: 15_000 }).toEqual(POLICY);
  await expect
    .poll(() => worker.evaluate(async () => (await chrome.scripting.getRegisteredContentScripts()).flatMap((s) => s.matches ?? [])), { timeout: 15_000 })
    .toContain('https://forum.corp.example/*');

  const page = await browser.context.newPage();
  await page.goto(`chrome-extension://${info.chromium.id}/options.html`);
  const options = new OptionsPage(page);
  for (const [key, value] of Object.entries({ verifierUrl: 'http://127.0.0.1:9', protectedSites: 'https://forum.corp.example/*', approvalTtlSeconds: '300', strictMode: 'true', verifierPolicy: 'off' })) {
    await expect.poll(() => options.policyValue(key).textContent(), { timeout: 15_000 }).toBe(value);
    expect(await page.getByTestId(`policy-source-${key}`).textContent(), key).toBe('managed');
  }
  await expect(options.policyProblems().count()).resolves.toBe(0);
});

it('attack: on a fleet machine (DevTools policy at its default) a CDP client driving the browser cannot reach the force-installed extension: no popup, no options page, no service worker', async () => {
  browser = await launchFleetChromium();
  await expect.poll(() => browser!.installedDir(info.chromium.id, info.version), { timeout: 60_000, interval: 250 }).not.toBeNull();
  for (const path of ['popup.html', 'options.html']) {
    const page = await browser.context.newPage();
    // Chromium detaches the debugger as the extension's page commits: the driver loses the tab.
    await expect(page.goto(`chrome-extension://${info.chromium.id}/${path}`)).rejects.toThrow(/closed/);
    expect(page.isClosed(), path).toBe(true);
  }
  expect(browser.context.serviceWorkers().filter((w) => w.url().includes(info.chromium.id))).toEqual([]);
});

for (const attack of [
  { name: 'a CRX signed by another key (the file swapped on the update server)', swap: 'other-key' },
  { name: 'the genuine CRX with one byte of its archive changed', swap: 'flipped-byte' },
] as const) {
  it(`attack: ${attack.name} is refused: Chromium records a failed force-install and installs nothing under the fleet's id`, async () => {
    const swappedDir = join(work, attack.swap);
    mkdirSync(swappedDir, { recursive: true });
    for (const file of [artifactNames(info.version).chromiumUpdateManifest, info.chromium.crx.file]) copyFileSync(join(kitDir, file), join(swappedDir, file));
    if (attack.swap === 'other-key') {
      const otherKey = join(work, 'other-key.pem');
      newKey(otherKey);
      const other = await writePackage({ chromiumDir: EXTENSION_DIR, firefoxDir: join(EXTENSION_DIR, '..', 'firefox-mv3'), outDir: join(work, 'other-kit'), keyPath: otherKey, baseUrl: kit.baseUrl });
      expect(other.chromium.id).not.toBe(info.chromium.id);
      copyFileSync(join(work, 'other-kit', other.chromium.crx.file), join(swappedDir, info.chromium.crx.file));
    } else {
      const crx = readFileSync(join(swappedDir, info.chromium.crx.file));
      const at = crx.length - 200;
      crx.writeUInt8(crx.readUInt8(at) ^ 0x01, at);
      writeFileSync(join(swappedDir, info.chromium.crx.file), crx);
    }
    const swappedServer = await serveKit(swappedDir);
    try {
      // The same update manifest (it names the fleet's id and the kit's CRX URL) served from the swapped folder.
      const xml = readFileSync(join(swappedDir, 'update.xml'), 'utf8').replace(kit.baseUrl, swappedServer.baseUrl);
      writeFileSync(join(swappedDir, 'update.xml'), xml);
      const policy = JSON.parse(readFileSync(POLICY_FILE, 'utf8')) as { ExtensionInstallForcelist: string[] };
      const genuine = readFileSync(POLICY_FILE, 'utf8');
      writeFileSync(POLICY_FILE, JSON.stringify({ ...policy, ExtensionInstallForcelist: [`${info.chromium.id};${swappedServer.baseUrl}update.xml`] }));
      try {
        browser = await launchFleetChromium();
        await forceInstallFailure(browser);
        expect(swappedServer.requests).toContain(`/kit/${info.chromium.crx.file}`);
        expect(browser.installedDir(info.chromium.id, info.version)).toBeNull();
        expect(browser.context.serviceWorkers().filter((w) => w.url().includes(info.chromium.id))).toEqual([]);
      } finally {
        writeFileSync(POLICY_FILE, genuine);
      }
    } finally {
      await swappedServer.close();
    }
  });
}
