// `npm start`: builds the extension, starts the verifier (SQLite) and the demo tools, enrolls
// nothing itself but prints an enrollment code for alice, and stops everything on Ctrl-C. Node only.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { tsImport } from 'tsx/esm/api';

const EXTENSION_ID = 'leelpbfgmamkjjkciaifjeihgadjnmgj';
const VERIFIER_PORT = Number(process.env.PORT ?? 8787);
const FORUM_PORT = Number(process.env.FORUM_PORT ?? 8080);
const CONSOLE_PORT = Number(process.env.CONSOLE_PORT ?? 8081);
const verifierUrl = `http://127.0.0.1:${VERIFIER_PORT}`;
const forumUrl = `http://127.0.0.1:${FORUM_PORT}`;
const consoleUrl = `http://localhost:${CONSOLE_PORT}`;
const adminToken = process.env.COUNTERSIGN_ADMIN_TOKEN ?? randomBytes(24).toString('base64url');
const tsx = resolve('node_modules/.bin/tsx');
const children = [];

function fail(message) {
  console.error(`\nnpm start: ${message}`);
  stopAll(1);
}

function stopAll(code = 0) {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 300).unref();
}

function start(name, args, env) {
  const child = spawn(tsx, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const prefix = (chunk) => String(chunk).split('\n').filter(Boolean).map((l) => `[${name}] ${l}`).join('\n');
  child.stdout.on('data', (d) => process.env.VERBOSE && console.log(prefix(d)));
  child.stderr.on('data', (d) => console.error(prefix(d)));
  child.on('exit', (code, signal) => {
    if (!stopping) fail(`${name} exited (${code ?? signal}); is port ${env.PORT ?? env.FORUM_PORT} free?`);
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
  fail(`${what} did not answer at ${url} within 30 s`);
}

async function admin(method, path, body) {
  const res = await fetch(new URL(path, verifierUrl), {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) fail(`${method} ${path} failed: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    console.log('\nStopping the verifier and the demo tools…');
    stopAll(0);
  });
}

console.log('Building the Countersign extension (Chrome MV3)…');
const build = spawnSync(process.execPath, ['node_modules/wxt/bin/wxt.mjs', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) fail('the extension build failed');

mkdirSync('data', { recursive: true });
start('verifier', ['server/main.ts'], {
  PORT: String(VERIFIER_PORT),
  COUNTERSIGN_ADMIN_TOKEN: adminToken,
  COUNTERSIGN_PUBLIC_URL: verifierUrl,
  DATABASE_URL: process.env.DATABASE_URL ?? 'sqlite:./data/verifier.db',
});
await waitFor(`${verifierUrl}/v1/status`, 'the verifier');

// alice is the demo user: her assistants, and a one-time code to enroll her browser.
await admin('PUT', '/v1/admin/agents/agent:forum-helper', { owner: 'alice', scopes: ['forum.post'], sites: [forumUrl] });
await admin('PUT', '/v1/admin/agents/agent:access-helper', { owner: 'alice', scopes: ['admin.acl.write'], sites: [consoleUrl] });
const { code } = await admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' });

start('demo', ['demo/main.ts'], { VERIFIER_URL: verifierUrl, FORUM_PORT: String(FORUM_PORT), CONSOLE_PORT: String(CONSOLE_PORT) });
await waitFor(`${forumUrl}/login`, 'Intraforum');
await waitFor(`${consoleUrl}/login`, 'the Access console');

// The admin policy a company would push; Chromium reads it from /etc/chromium/policies/managed/.
// The extension ships no site adapters: the demo tools' come as policy, as any other tool's would
// (demo/adapters.ts), each naming its tool's origin with its port.
const { demoSitePolicy } = await tsImport('../demo/adapters.ts', import.meta.url);
const policyFile = resolve('data/chromium-policy.json');
writeFileSync(
  policyFile,
  JSON.stringify({ '3rdparty': { extensions: { [EXTENSION_ID]: { verifierUrl, ...demoSitePolicy({ forum: forumUrl, console: consoleUrl }), assistantAccounts: ['assistant'] } } } }, null, 2),
);

console.log(`
Countersign is running.

  Verifier        ${verifierUrl}        (SQLite ./data/verifier.db)
  Admin token     ${adminToken}
  Intraforum      ${forumUrl}/t/1      (sign in as alice or bob)
  Access console  ${consoleUrl}/datasets/payroll-2026

  Extension       ${resolve('.output/chrome-mv3')}
    Load it: chrome://extensions → Developer mode → Load unpacked → choose that folder.
    Its id is fixed: ${EXTENSION_ID}
  Enroll alice's browser: extension options → Verifier URL ${verifierUrl}, Enrollment code ${code}
  Admin policy for Chromium: copy ${policyFile} into /etc/chromium/policies/managed/
    (it protects the two tools and carries their site adapters; without it the extension protects nothing)

  Try the incident without the browser:   npm run demo:agent
  Admin CLI:   COUNTERSIGN_ADMIN_TOKEN=${adminToken} npm run admin -- status

Ctrl-C stops everything.`);
