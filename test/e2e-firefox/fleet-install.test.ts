// A Firefox fleet deployment end to end: `npm run package` makes the XPI and updates.json, the kit is
// served over loopback as an admin self-hosts it, `npm run admin -- policy-template firefox --package`
// writes policies.json (ExtensionSettings force_installed with the XPI's URL, and the managed values),
// and Firefox starts with no add-on installed by the driver: the extension arrives only through policy.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GECKO_ID } from '@/lib/extension-identity';
import type { PackageInfo } from '../../server/admin/extension-package';
import { writePackage } from '../../server/admin/write-package';
import { policyTemplateCli } from '../helpers/policy-template-cli';
import { serveKit } from '../helpers/browser/fleet';
import type { KitServer } from '../helpers/browser/fleet';
import { launchFirefoxWithExtension } from '../helpers/firefox/firefox';
import type { FirefoxWithExtension } from '../helpers/firefox/firefox';
import { FirefoxOptionsPage } from '../helpers/firefox/pages';
import { writePoliciesFile } from '../helpers/firefox/policies';

const POLICY = { verifierUrl: 'http://127.0.0.1:9', protectedSites: ['https://forum.corp.example/*'], approvalTtlSeconds: 300, strictMode: true, verifierPolicy: 'off' };

let work: string;
let kit: KitServer;
let info: PackageInfo;
let firefox: FirefoxWithExtension | undefined;
let removePolicy: () => void = () => undefined;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'cs-ff-fleet-'));
  const kitDir = join(work, 'kit');
  kit = await serveKit(kitDir);
  const keyPath = join(work, 'fleet-key.pem');
  writeFileSync(keyPath, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  info = await writePackage({ chromiumDir: resolve('.output/chrome-mv3'), firefoxDir: resolve('.output/firefox-mv3'), outDir: kitDir, keyPath, baseUrl: kit.baseUrl });
  const policyFile = join(work, 'fleet-policy.json');
  const out = join(work, 'policies.json');
  writeFileSync(policyFile, JSON.stringify(POLICY));
  const { code, err } = await policyTemplateCli(['firefox', '--policy', policyFile, '--package', kitDir, '--out', out]);
  expect(code, err).toBe(0);
  removePolicy = writePoliciesFile(JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>);
  firefox = await launchFirefoxWithExtension({ install: 'policy' });
});

afterAll(async () => {
  try {
    await firefox?.close();
    await kit?.close();
  } finally {
    removePolicy();
    if (work) rmSync(work, { recursive: true, force: true });
  }
});

it('the generated policies.json force-installs the XPI from the self-hosted kit, and every managed value reads back on the options page', async () => {
  // The add-on is installed shortly after start-up: its options page answers once it is.
  let options: FirefoxOptionsPage | undefined;
  await expect
    .poll(
      async () => {
        options = await FirefoxOptionsPage.open(firefox!).catch(() => undefined);
        return options !== undefined;
      },
      { timeout: 60_000, interval: 1_000 },
    )
    .toBe(true);
  expect(kit.requests).toContain(`/kit/${info.firefox.xpi.file}`);
  expect(info.firefox.id).toBe(GECKO_ID);
  for (const [key, value] of Object.entries({ verifierUrl: 'http://127.0.0.1:9', protectedSites: 'https://forum.corp.example/*', approvalTtlSeconds: '300', strictMode: 'true', verifierPolicy: 'off' })) {
    expect(await options!.policyRow(key), key).toEqual({ value, source: 'managed' });
  }
  expect(await options!.policyProblems(false)).toEqual([]);
});
