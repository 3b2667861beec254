// `npm run demo` and `npm run demo:agent` as a newcomer runs them (demo/main.ts and demo/agent.ts
// through tsx): the tools start against a verifier, print their URLs, the rogue agent is refused and
// exits 0, and SIGTERM closes the demo. Also the environment's checks.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDemoConfig } from '../../demo/config';
import { startVerifier } from '../helpers/verifier';
import type { TestVerifier } from '../helpers/verifier';
import { freePort } from '../helpers/demo-world';

const TSX = join(process.cwd(), 'node_modules/.bin/tsx');

function run(script: string, env: Record<string, string>): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const child = spawn(TSX, [script], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += String(d)));
  child.stderr.on('data', (d) => (output += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('readDemoConfig', () => {
  it('has the documented defaults', () => {
    expect(readDemoConfig({})).toEqual({ verifierUrl: 'http://127.0.0.1:8787', forumPort: 8080, consolePort: 8081, dataFile: './data/demo.db' });
  });

  it('refuses a bad port or verifier URL with a message naming the variable', () => {
    expect(() => readDemoConfig({ FORUM_PORT: 'eighty' })).toThrow(/FORUM_PORT/);
    expect(() => readDemoConfig({ CONSOLE_PORT: '70000' })).toThrow(/CONSOLE_PORT/);
    expect(() => readDemoConfig({ VERIFIER_URL: 'ftp://x' })).toThrow(/VERIFIER_URL/);
  });
});

describe('npm run demo, then npm run demo:agent', () => {
  let v: TestVerifier;
  let verifierUrl: string;
  let dir: string;

  beforeAll(async () => {
    v = await startVerifier('sqlite');
    verifierUrl = await v.app.listen({ port: 0, host: '127.0.0.1' });
    dir = mkdtempSync(join(tmpdir(), 'cs-demo-'));
  });
  afterAll(async () => {
    await v.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, prints both URLs, refuses the rogue agent (exit 0), and stops on SIGTERM', async () => {
    const [forumPort, consolePort] = [await freePort(), await freePort()];
    const dataFile = join(dir, 'nested', 'demo.db');
    const demo = run('demo/main.ts', { VERIFIER_URL: verifierUrl, FORUM_PORT: String(forumPort), CONSOLE_PORT: String(consolePort), DEMO_DATA: dataFile });
    try {
      for (let i = 0; i < 150 && !demo.output().includes('Access console:'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(demo.output()).toContain(`Intraforum:     http://127.0.0.1:${forumPort}`);
      expect(demo.output()).toContain(`Access console: http://localhost:${consolePort}`);
      expect(existsSync(dataFile)).toBe(true);

      const agent = run('demo/agent.ts', { FORUM_URL: `http://127.0.0.1:${forumPort}`, CONSOLE_URL: `http://localhost:${consolePort}` });
      expect(await agent.exited).toBe(0);
      expect(agent.output()).toContain('token_missing');
      expect(agent.output()).toContain('key_unknown');
      expect(agent.output()).toContain('Every assistant call was refused');
    } finally {
      demo.child.kill('SIGTERM');
    }
    expect(await demo.exited).toBe(0);
  });

  it('the agent exits 1 when no demo is running', async () => {
    const port = await freePort();
    const agent = run('demo/agent.ts', { FORUM_URL: `http://127.0.0.1:${port}`, CONSOLE_URL: `http://127.0.0.1:${port}` });
    expect(await agent.exited).toBe(1);
    expect(agent.output()).toContain('UNEXPECTED');
  });

  it('says so when the verifier is not running', async () => {
    const [forumPort, consolePort, nothing] = [await freePort(), await freePort(), await freePort()];
    const demo = run('demo/main.ts', { VERIFIER_URL: `http://127.0.0.1:${nothing}`, FORUM_PORT: String(forumPort), CONSOLE_PORT: String(consolePort), DEMO_DATA: ':memory:' });
    try {
      for (let i = 0; i < 150 && !demo.output().includes('Warning'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(demo.output()).toContain('verifier_unavailable');
    } finally {
      demo.child.kill('SIGTERM');
    }
    expect(await demo.exited).toBe(0);
  });
});
