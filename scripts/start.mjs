// `npm start`: builds the extension, starts the verifier (SQLite) and the demo tools, puts the demo
// tools' protection on the verifier as the organisation's extension policy (so an enrolled browser is
// protected with no root step), prints an enrollment code for alice, and stops everything on Ctrl-C.
// `--open` also opens Chromium with the extension in a throwaway profile; `--no-build` reuses
// `.output/chrome-mv3`. Env: PORT, FORUM_PORT, CONSOLE_PORT, DATABASE_URL, COUNTERSIGN_DATA_DIR,
// COUNTERSIGN_ADMIN_TOKEN, CHROME_PATH, VERBOSE. Node only.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import { cannotOpen, openChromium } from './open-browser.mjs';

const USAGE = 'usage: npm start -- [--open] [--no-build]   (or npm run start:open)';
const EXTENSION_ID = 'leelpbfgmamkjjkciaifjeihgadjnmgj';
const DEFAULT_VERIFIER_PORT = 8787;

const flags = new Set(process.argv.slice(2));
for (const flag of flags) {
  if (!['--open', '--no-build', '--help', '-h'].includes(flag)) {
    console.error(`npm start: unknown option ${flag}\n${USAGE}`);
    process.exit(2);
  }
}
if (flags.has('--help') || flags.has('-h')) {
  console.log(`${USAGE}\n  --open      also open Chromium with the extension loaded, in a throwaway profile\n  --no-build  reuse the extension already built in .output/chrome-mv3`);
  process.exit(0);
}

const VERIFIER_PORT = Number(process.env.PORT ?? DEFAULT_VERIFIER_PORT);
const FORUM_PORT = Number(process.env.FORUM_PORT ?? 8080);
const CONSOLE_PORT = Number(process.env.CONSOLE_PORT ?? 8081);
const verifierUrl = `http://127.0.0.1:${VERIFIER_PORT}`;
const forumUrl = `http://127.0.0.1:${FORUM_PORT}`;
const consoleUrl = `http://localhost:${CONSOLE_PORT}`;
const extensionDir = resolve('.output/chrome-mv3');
const optionsUrl = `chrome-extension://${EXTENSION_ID}/options.html`;
const tsx = resolve('node_modules/.bin/tsx');

/** A path as the reader should type it: relative to here when it is under here. */
function shown(path) {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

const dataDir = resolve(process.env.COUNTERSIGN_DATA_DIR || 'data');
const databaseUrl = process.env.DATABASE_URL || `sqlite:${shown(join(dataDir, 'verifier.db'))}`;
const children = [];
let browser = null;
let stopping = false;

/** Says why and stops everything; at the top level, await it (it never resolves: the process exits). */
function fail(message) {
  console.error(`\nnpm start: ${message}`);
  return stopAll(1).then(() => new Promise(() => {}));
}

async function stopAll(code = 0) {
  if (stopping) return new Promise(() => {});
  stopping = true;
  const exits = children.map((child) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r))));
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all([browser?.close(), Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5000).unref())])]);
  process.exit(code);
}

function start(name, args, env) {
  const child = spawn(tsx, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const prefix = (chunk) => String(chunk).split('\n').filter(Boolean).map((l) => `[${name}] ${l}`).join('\n');
  child.stdout.on('data', (d) => process.env.VERBOSE && console.log(prefix(d)));
  child.stderr.on('data', (d) => console.error(prefix(d)));
  child.on('exit', (code, signal) => {
    if (!stopping) void fail(`${name} exited (${code ?? signal}); is port ${env.PORT ?? env.FORUM_PORT} free?`);
  });
  return child;
}

async function waitFor(url, what) {
  for (let i = 0; i < 150; i++) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await fail(`${what} did not answer at ${url} within 30 s`);
}

/**
 * The admin token: COUNTERSIGN_ADMIN_TOKEN when set (then nothing is written), else the one in
 * <data>/admin-token (mode 0600), made on the first run and kept, so that a terminal that read it
 * once keeps working across restarts. It is never printed.
 */
function adminTokenSource() {
  if (process.env.COUNTERSIGN_ADMIN_TOKEN) return { token: process.env.COUNTERSIGN_ADMIN_TOKEN, file: null };
  const file = join(dataDir, 'admin-token');
  let token = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (token.length < 24) {
    token = randomBytes(24).toString('base64url');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return { token, file };
}

async function admin(method, path, body) {
  const res = await fetch(new URL(path, verifierUrl), {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) await fail(`${method} ${path} failed: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/** JSON with its object keys sorted: two policies are the same document whatever their key order. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    console.log(browser ? '\nStopping Chromium, the verifier and the demo tools…' : '\nStopping the verifier and the demo tools…');
    void stopAll(0);
  });
}

if (flags.has('--no-build')) {
  if (!existsSync(join(extensionDir, 'manifest.json'))) await fail(`--no-build, but there is no extension in ${shown(extensionDir)}: run \`npm run build\` first`);
} else {
  console.log('Building the Countersign extension (Chrome MV3)…');
  const build = spawnSync(process.execPath, ['node_modules/wxt/bin/wxt.mjs', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) await fail('the extension build failed');
}

mkdirSync(dataDir, { recursive: true });
const { token: adminToken, file: adminTokenFile } = adminTokenSource();
start('verifier', ['server/main.ts'], {
  PORT: String(VERIFIER_PORT),
  COUNTERSIGN_ADMIN_TOKEN: adminToken,
  COUNTERSIGN_PUBLIC_URL: verifierUrl,
  DATABASE_URL: databaseUrl,
});
await waitFor(`${verifierUrl}/v1/status`, 'the verifier');

// alice is the demo user: her assistants, and a one-time code to enroll her browser.
await admin('PUT', '/v1/admin/agents/agent:forum-helper', { owner: 'alice', scopes: ['forum.post'], sites: [forumUrl] });
await admin('PUT', '/v1/admin/agents/agent:access-helper', { owner: 'alice', scopes: ['admin.acl.write'], sites: [consoleUrl] });
const { code, expiresAt } = await admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' });
// The well-behaved agent's verifier key (`npm run demo:agent -- --propose`), kept readable by you only,
// so that the agent never needs the admin token; made again if the kept one no longer works.
const agentKeyFile = join(dataDir, 'agent-access-helper.key');
const keptKey = existsSync(agentKeyFile) ? readFileSync(agentKeyFile, 'utf8').trim() : '';
const keyWorks = keptKey !== '' && (await fetch(`${verifierUrl}/v1/agents/me`, { headers: { authorization: `Bearer ${keptKey}` } })).ok;
if (!keyWorks) {
  const { key } = await admin('POST', '/v1/admin/agents/agent:access-helper/keys');
  writeFileSync(agentKeyFile, `${key}\n`, { mode: 0o600 });
  chmodSync(agentKeyFile, 0o600);
}

// What protects the demo: the two tools' origins (ports named), the assistant's account, and their
// site adapters (demo/adapters.ts; the extension ships none). The verifier hands it to every enrolled
// browser as the organisation's extension policy, so no file needs root. Put again only when it
// changed, so a restart keeps the version the browser already has.
const { demoSitePolicy } = await tsImport('../demo/adapters.ts', import.meta.url);
const sitePolicy = demoSitePolicy({ forum: forumUrl, console: consoleUrl });
const organisationPolicy = { protectedSites: sitePolicy.protectedSites, assistantAccounts: ['assistant'], adapters: JSON.parse(sitePolicy.adapters) };
const current = await admin('GET', '/v1/admin/extension-policy');
const { version: policyVersion } = canonical(current.policy) === canonical(organisationPolicy) ? current : await admin('PUT', '/v1/admin/extension-policy', organisationPolicy);

start('demo', ['demo/main.ts'], { VERIFIER_URL: verifierUrl, FORUM_PORT: String(FORUM_PORT), CONSOLE_PORT: String(CONSOLE_PORT), DEMO_DATA: join(dataDir, 'demo.db') });
await waitFor(`${forumUrl}/login`, 'Intraforum');
await waitFor(`${consoleUrl}/login`, 'the Access console');

// The same protection as managed browser policy, for an admin who would rather the browser enforce it
// (Chromium reads it from /etc/chromium/policies/managed/): a second route, never needed for the demo.
const policyFile = join(dataDir, 'chromium-policy.json');
writeFileSync(policyFile, JSON.stringify({ '3rdparty': { extensions: { [EXTENSION_ID]: { verifierUrl, ...sitePolicy, assistantAccounts: ['assistant'] } } } }, null, 2));

const minutes = Math.max(1, Math.round((expiresAt - Date.now()) / 60_000));
const urlOption = VERIFIER_PORT === DEFAULT_VERIFIER_PORT ? '' : ` --url ${verifierUrl}`;
const tokenEnv = adminTokenFile ? `COUNTERSIGN_ADMIN_TOKEN=$(cat ${shown(adminTokenFile)}) ` : '';
const tokenNote = adminTokenFile
  ? `the admin token is in ${shown(adminTokenFile)}, readable by you only: a secret, keep it out of screenshots and logs`
  : 'with the admin token from $COUNTERSIGN_ADMIN_TOKEN';
const opening = flags.has('--open') ? cannotOpen() : null;
const willOpen = flags.has('--open') && opening === null;
const enroll = `       Verifier URL     ${verifierUrl}
       Enrollment code  ${code}   (alice's; one use, valid ${minutes} minutes)
     and Enroll (let it register your authenticator — fingerprint, PIN, security key or phone: access
     changes ask for it). The verifier then tells the extension what to protect: both tools, with their adapters.`;
const steps = [
  willOpen
    ? `  1. Chromium opens with the extension loaded, in a throwaway profile, on the extension's options page.`
    : `  1. Load the extension into Chromium: chrome://extensions → Developer mode → Load unpacked →
       ${extensionDir}
     (its id is always ${EXTENSION_ID})`,
  `  2. In its options page${willOpen ? '' : ` (${optionsUrl})`}, enter
${enroll}`,
  `  3. Intraforum as alice → "Ask the assistant": the post is held. Approve it in the Countersign
     toolbar popup and it is posted, with an "AI · approved" badge. In the Access console, "Apply
     suggestion": the popup shows the assistant's change before → after, and approving it asks for
     your presence.`,
];
const browserIntro = opening
  ? `--open: ${opening}. Set the browser up by hand:`
  : willOpen
    ? 'In the browser:'
    : 'In the browser (or `npm start -- --open` does step 1 in a throwaway Chromium profile):';

console.log(`
Countersign is running.

  Intraforum      ${forumUrl}/t/1
  Access console  ${consoleUrl}/datasets/payroll-2026
                  on both, sign in as alice (the assistants are hers) or bob
  Verifier        ${verifierUrl}    (${databaseUrl.startsWith('sqlite:') ? `SQLite ${databaseUrl.slice('sqlite:'.length)}` : 'PostgreSQL'})
                  its extension policy (version ${policyVersion}) protects both tools in every enrolled browser

${browserIntro}
${steps.join('\n')}

Another enrollment code (a second browser, or once this one has expired):
  ${tokenEnv}npm run admin -- codes create --user alice${urlOption}
  (${tokenNote})

Optional, the admin's route: ${shown(policyFile)} holds the same protection as managed browser
policy, to copy into /etc/chromium/policies/managed/ (needs root). Unlike the verifier's copy,
Chromium enforces it and the user cannot change it; it can also pin verifierUrl, or set
verifierPolicy "off" to ignore the verifier's copy.

Without a browser: \`npm run demo:agent\` lets a rogue assistant call the tools' APIs; all refused.
\`npm run demo:agent -- --propose\` is its well-behaved sibling: it proposes the same payroll change,
waits, and acts only once alice approves it in her popup.

Ctrl-C stops everything.`);

if (willOpen) {
  browser = openChromium({
    extensionDir,
    extensionId: EXTENSION_ID,
    startUrl: optionsUrl,
    onExit({ code: exitCode, stderr }) {
      browser = null;
      if (stopping) return;
      if (exitCode) console.error(`\nChromium exited (${exitCode}):\n${stderr.trim().split('\n').slice(-5).join('\n')}`);
      else console.log('\nChromium closed, and its throwaway profile is gone; the verifier and the tools keep running. Ctrl-C stops them.');
    },
  });
  console.log(`\nOpening Chromium (throwaway profile ${browser.profile}, removed when it closes)…`);
  browser.ready.then(
    () => console.log("Chromium is on the extension's options page: enter the verifier URL and the enrollment code above."),
    (error) => !stopping && browser && console.error(`--open: ${error.message}`),
  );
}
