// `npm run verifier` as a newcomer runs it: the process starts on SQLite and answers GET /v1/status.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatusResponse } from '@/lib/protocol';
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
