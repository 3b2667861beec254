// The generated `chromium-linux` policy template, deployed as an admin does: `npm run admin --
// policy-template chromium-linux --out` into Chromium's managed-policy directory (root), Chromium started
// with the extension, and every key read back — from chrome.storage.managed with its schema type,
// and on the options page with its value and source "managed". One browser launch.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXTENSION_ID } from '@/lib/extension-identity';
import { loadManagedSchema } from '../../server/admin/managed-schema';
import { policyTemplateCli } from '../helpers/policy-template-cli';
import { launchWithExtension } from '../helpers/browser/browser';
import type { ExtensionBrowser } from '../helpers/browser/browser';
import { MANAGED_POLICY_DIR, removeManagedPolicy, setManagedPoliciesAside } from '../helpers/browser/managed-policy';
import { OptionsPage } from '../helpers/browser/pages/extension-pages';
import { SCREENSHOT_DIR } from '../helpers/browser/screenshots';

const FILE = join(MANAGED_POLICY_DIR, 'countersign-template-e2e.json');

const ADAPTERS = [
  {
    id: 'corp-forum',
    match: ['http://127.0.0.1:9/*'],
    actions: [{ scope: 'forum.post', request: { method: 'POST', url: '/api/topics/*/replies' }, content: '/body' }],
  },
];

/** Every schema key, with values that differ from the extension's defaults (so "managed" is earned). */
const POLICY = {
  // A closed loopback port: nothing here needs the verifier, and no organisation policy joins in.
  verifierUrl: 'http://127.0.0.1:9',
  protectedSites: ['http://127.0.0.1:9/*', 'https://wiki.corp.example/*'],
  blockedSites: ['https://payroll.corp.example/*'],
  assistantAccounts: ['assistant-bot'],
  approvalTtlSeconds: 240,
  killSwitch: true,
  strictMode: true,
  verifierPolicy: 'off',
  adapters: ADAPTERS,
};

/** What the options page's value cell shows for each key. */
const SHOWN: Record<keyof typeof POLICY, string> = {
  verifierUrl: 'http://127.0.0.1:9',
  protectedSites: 'http://127.0.0.1:9/*, https://wiki.corp.example/*',
  blockedSites: 'https://payroll.corp.example/*',
  assistantAccounts: 'assistant-bot',
  approvalTtlSeconds: '240',
  killSwitch: 'true',
  strictMode: 'true',
  verifierPolicy: 'off',
  adapters: 'corp-forum (managed: http://127.0.0.1:9/*)',
};

let browser: ExtensionBrowser | undefined;
let putBack: () => void = () => undefined;
let written = false;

beforeAll(async () => {
  // Only this file names Countersign while the browser runs: the suite's own, and any admin's, are set aside.
  removeManagedPolicy();
  putBack = setManagedPoliciesAside();
  const inputDir = mkdtempSync(join(tmpdir(), 'cs-policy-template-'));
  const policyFile = join(inputDir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(POLICY));
  try {
    // As an admin runs it: no verifier, no admin token. Without --update-url: a force-install entry
    // for this id makes Chromium refuse the unpacked build the test loads (it waits for the update
    // manifest's CRX instead), so the forcelist is checked by the unit tests, not here.
    const { code, err } = await policyTemplateCli(['chromium-linux', '--policy', policyFile, '--out', FILE]);
    written = true;
    expect(code, err).toBe(0);
  } finally {
    rmSync(inputDir, { recursive: true, force: true });
  }
  browser = await launchWithExtension();
});

afterAll(async () => {
  try {
    await browser?.close();
  } finally {
    if (written) rmSync(FILE, { force: true });
    putBack();
  }
});

it('Chromium hands the extension every schema key from the generated file, each of its schema type', async () => {
  const managed = await browser!.serviceWorker.evaluate(() => chrome.storage.managed.get());
  const schema = loadManagedSchema();
  expect(Object.keys(managed).sort()).toEqual(Object.keys(schema.properties).sort());
  expect(managed).toEqual({ ...POLICY, adapters: JSON.stringify(ADAPTERS) });
  // Chrome validated each against public/managed_schema.json: a wrong type would have been dropped.
  for (const [key, prop] of Object.entries(schema.properties)) {
    const value = managed[key];
    expect(Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value, key).toBe(prop.type);
  }
  expect(EXTENSION_ID).toBe(browser!.extensionId);
});

it('the options page shows each value with its source "managed"', async () => {
  const options = await OptionsPage.open(browser!);
  for (const [key, shown] of Object.entries(SHOWN)) {
    await expect.poll(() => options.policyValue(key).textContent(), { timeout: 15_000 }).toBe(shown);
    expect(await options.page.getByTestId(`policy-source-${key}`).textContent(), key).toBe('managed');
  }
  await expect(options.policyProblems().count()).resolves.toBe(0);
});

it('chrome://policy lists the extension\'s policy from the generated file, every key valid against the schema (docs/admin.md\'s screenshot)', async () => {
  const page = await browser!.context.newPage();
  await page.goto('chrome://policy');
  // Chromium's own policy page (web components: Playwright's locators reach into their shadow roots):
  // Countersign's values under its extension id, each with a status.
  await expect.poll(() => page.getByText(EXTENSION_ID).count(), { timeout: 15_000 }).toBeGreaterThan(0);
  for (const key of Object.keys(POLICY)) expect(await page.getByText(key, { exact: true }).count(), key).toBeGreaterThan(0);
  expect(await page.getByText('http://127.0.0.1:9', { exact: true }).count()).toBeGreaterThan(0);
  // A value Chrome's schema check refused is shown with the status "Error"; there is none.
  expect(await page.getByText('Error', { exact: true }).filter({ visible: true }).count()).toBe(0);
  expect(await page.getByText('OK', { exact: true }).filter({ visible: true }).count()).toBeGreaterThanOrEqual(Object.keys(POLICY).length);
  // The page scrolls inside its own container: bring Countersign's table to the top, then take the view.
  await page.getByText(EXTENSION_ID).first().evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'chrome-policy.png') });
  await page.close();
});
