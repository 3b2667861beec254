// `npm run verifier` as a newcomer runs it: the process starts on SQLite and answers GET /v1/status;
// on a PostgreSQL URL it cannot use it stops at once, exit code 1, with the driver's reason; a socket
// URL naming no user starts as with libpq (the OS user).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatusResponse } from '@/lib/protocol';
import { createTestDatabase, ownByOsUser, socketUrl } from '../helpers/postgres';
import type { TestDatabase } from '../helpers/postgres';
import { freePort } from '../helpers/processes';

describe('npm run verifier', () => {
  it('starts with DESIGN.md\'s environment, prints its admin token, and answers /v1/status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-main-'));
    const port = await freePort();
    const child = spawn('npm', ['run', '--silent', 'verifier'], {
      env: { ...process.env, PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'v.db')}`, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    try {
      let status: unknown;
      for (let i = 0; i < 100 && status === undefined; i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = await fetch(`http://127.0.0.1:${port}/v1/status`).then((r) => r.json(), () => undefined);
      }
      expect(StatusResponse.parse(status).killSwitch.engaged).toBe(false);
      expect(output).toContain('Admin token');
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** server/main.ts in its own process (node + tsx, as startVerifierProcess runs it), PG* and USER from `env` only. */
function runVerifier(env: Record<string, string>, port: number) {
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG') && key !== 'USER') base[key] = value;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...base, LOG_LEVEL: 'warn', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('npm run verifier on PostgreSQL', () => {
  let storage: TestDatabase;
  beforeAll(async () => {
    storage = await createTestDatabase('main_start');
  });
  afterAll(async () => {
    await storage?.drop();
  });

  it.each([
    ['a closed port', () => 'postgres://postgres@127.0.0.1:1/countersign', 'connect ECONNREFUSED 127.0.0.1:1'],
    ['an unknown role', () => Object.assign(new URL(storage.url), { username: 'nobody_here' }).toString(), 'role "nobody_here" does not exist'],
    ['an unknown database', () => Object.assign(new URL(storage.url), { pathname: '/no_such_db' }).toString(), 'database "no_such_db" does not exist'],
  ])('%s: exits 1 at start, printing the driver\'s reason (not "migration unknown failed")', async (_name, url, reason) => {
    const run = runVerifier({ DATABASE_URL: url() }, await freePort());
    const code = await Promise.race([run.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
    if (code === 'hung') run.child.kill('SIGKILL');
    expect(code).toBe(1);
    const { stderr } = run.output();
    expect(stderr).toContain('verifier failed to start: cannot use PostgreSQL');
    expect(stderr).toContain(reason);
    expect(stderr).not.toContain('migration unknown');
  }, 40_000);

  it('postgres:///<db>?host=<socket dir> with no user, PGUSER or USER: starts as the OS user and answers /v1/status', async () => {
    await ownByOsUser(storage);
    const port = await freePort();
    const run = runVerifier({ DATABASE_URL: socketUrl(storage.name) }, port);
    try {
      let status: unknown;
      for (let i = 0; i < 150 && status === undefined && run.child.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = await fetch(`http://127.0.0.1:${port}/v1/status`).then((r) => r.json(), () => undefined);
      }
      expect(run.output().stderr).toBe('');
      expect(StatusResponse.parse(status).killSwitch.engaged).toBe(false);
      expect(run.output().stdout).toContain('(PostgreSQL)');
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }, 60_000);
});
