// The README's "ten lines an agent author writes" (section "Agents that act through APIs") run as
// written, as a real process, against a listening verifier and the demo console: it waits, alice's
// device approves, and the change lands. Node only (tests).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProposalWorld } from './proposal-world';
import type { ProposalWorld } from './proposal-world';

function readmeExample(): string {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('### The client (`lib/agent/`'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('no ts example in the README section');
  return block[1]!;
}

describe('README: the agent client example', () => {
  let w: ProposalWorld;
  let dir: string;
  beforeAll(async () => {
    w = await startProposalWorld('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'cs-readme-agent-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await w.close();
  });

  it('is at most a dozen lines, and run as written it proposes, waits for the approval and executes', async () => {
    const example = readmeExample();
    expect(example.trim().split('\n').length).toBeLessThanOrEqual(12);
    const runnable = example
      .replace("'./lib/agent'", JSON.stringify(resolve('lib/agent/index.ts')))
      .replaceAll('http://127.0.0.1:8787', w.verifierUrl)
      .replaceAll('http://localhost:8081', w.consoleUrl);
    const file = join(dir, 'agent.mts');
    writeFileSync(file, runnable);
    const child = spawn(resolve('node_modules/.bin/tsx'), [file], { env: { ...process.env, COUNTERSIGN_AGENT_KEY: w.agentKey }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

    let id: string | undefined;
    for (let i = 0; i < 400 && !id; i++) {
      id = (await w.pending())[0]?.id;
      if (!id) await new Promise((r) => setTimeout(r, 50));
    }
    expect(id, stderr).toBeDefined();
    expect(w.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
    expect(await w.approve(id!)).toBe(200);
    expect(await exited, stderr).toBe(0);
    expect(stdout).toContain('200');
    expect(w.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('all-employees');
  });
});
