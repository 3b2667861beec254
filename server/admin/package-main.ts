// Entry of `npm run package`: wxt zip for both browsers, then the self-hosting kit (signed CRX, update
// manifests, Web Store zip, XPI) in .output/package. Only wires modules. Node only.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { EXTENSION_ID } from '../../lib/extension-identity';
import { BaseUrl } from './extension-package';
import { ensureSigningKey, signingKeyPath } from './signing-key';
import { writePackage } from './write-package';

const program = new Command('package')
  .description('pack the extension for a fleet: wxt zip for Chrome and Firefox, a CRX signed with your key and its update manifest, the Firefox XPI')
  .option('--key <pem>', 'the RSA key that signs the CRX and fixes the Chromium id (else $COUNTERSIGN_CRX_KEY, else .keys/countersign-crx.pem, made on first use)')
  .option('--base-url <url>', 'where you serve the kit (https): written into update.xml, updates.json and both manifests, so browsers update from it')
  .option('--out <dir>', 'where the kit goes', '.output/package')
  .option('--no-build', 'pack the existing .output/chrome-mv3 and .output/firefox-mv3 instead of running wxt zip')
  .exitOverride();

async function main(argv: string[]): Promise<number> {
  program.parse(argv, { from: 'user' });
  const o = program.opts<{ key?: string; baseUrl?: string; out: string; build: boolean }>();
  let baseUrl: BaseUrl | null = null;
  if (o.baseUrl !== undefined) {
    const parsed = BaseUrl.safeParse(o.baseUrl);
    if (!parsed.success) throw new Error(`--base-url is refused: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    baseUrl = parsed.data;
  }
  const key = signingKeyPath(o.key, process.env);
  const { created } = ensureSigningKey(key.path, key.chosen === 'default');
  if (o.build) {
    for (const browser of ['chrome', 'firefox']) execFileSync(resolve('node_modules/.bin/wxt'), ['zip', '-b', browser], { stdio: 'inherit' });
  }
  const info = await writePackage({ chromiumDir: resolve('.output/chrome-mv3'), firefoxDir: resolve('.output/firefox-mv3'), outDir: resolve(o.out), keyPath: key.path, baseUrl });
  const say = (line: string) => console.error(line);
  if (created) say(`made a new signing key at ${key.path} (readable by you only). Keep it and back it up: it is the extension's identity, and a new key is a new extension to every browser.`);
  say(`packed Countersign ${info.version} in ${o.out}:`);
  say(`  Chromium id ${info.chromium.id}: ${info.chromium.crx.file} (sha256 ${info.chromium.crx.sha256}), ${info.chromium.webStoreZip.file} for the Chrome Web Store`);
  say(`  Firefox ${info.firefox.id}: ${info.firefox.xpi.file} (sha256 ${info.firefox.xpi.sha256}), unsigned: Firefox release builds install it only once Mozilla signs it (docs/admin.md)`);
  if (info.chromium.id !== EXTENSION_ID) say(`  the id is your key's, not the development id ${EXTENSION_ID}: policy-template --package ${o.out} keys the policy on it, and the verifier needs COUNTERSIGN_EXTENSION_ORIGINS=chrome-extension://${info.chromium.id}`);
  if (baseUrl) {
    say(`serve ${o.out} at ${baseUrl}, then: npm run admin -- policy-template --policy <fleet-policy.json> --package ${o.out} chromium-linux (or chrome-linux, windows, macos, firefox)`);
  } else {
    say('no --base-url: nothing here says where browsers fetch it; pass --base-url to self-host');
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    console.error(`package: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
