// `npm run demo:agent -- --propose`, the well-behaved assistant, against the listening demo and a
// listening verifier: it proposes the payroll change, the console is untouched while it waits, alice's
// device approves (through the verifier's device routes, no browser) and only then the change lands
// with a receipt; a rejection sends nothing. Also the real process, and where its agent key comes
// from. Node only (tests).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
// Imported as the other demo tests do: importing demo/agent must not run it.
import { runWellBehavedAgent } from '../../demo/agent';
import { AGENT_KEY_FILE, demoAgentKey } from '../../demo/agent-key';
import { AGENT, startProposalWorld } from '../lib/agent/proposal-world';
import type { ProposalWorld } from '../lib/agent/proposal-world';

const TEAM_ONLY = { visibility: 'team-only' as const, groups: ['payroll-team'] };

async function listedProposal(w: ProposalWorld): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const [first] = await w.pending();
    if (first) return first.id;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the agent never proposed');
}

describe('npm run demo:agent -- --propose (the well-behaved assistant)', () => {
  let w: ProposalWorld;
  beforeAll(async () => {
    w = await startProposalWorld('sqlite');
  });
  afterAll(() => w.close());
  beforeEach(() => {
    w.v.clock.now += 61_000;
    w.demo.store.setDatasetAccess('payroll-2026', TEAM_ONLY, { changedBy: 'test' });
  });

  it('proposes, waits while the console is untouched, and acts only after alice approves: the change lands with a receipt', async () => {
    const lines: string[] = [];
    const running = runWellBehavedAgent({ verifierUrl: w.verifierUrl, consoleUrl: w.consoleUrl, agentKey: w.agentKey, out: (l) => lines.push(l) });
    const id = await listedProposal(w);
    const listed = (await w.pending()).find((p) => p.id === id)!;
    expect(listed).toMatchObject({ agent: AGENT, scope: 'admin.acl.write', request: { method: 'PUT', url: w.accessUrl } });
    // Waiting: nothing has reached the console.
    expect(w.demo.store.datasetAccess('payroll-2026')).toEqual(TEAM_ONLY);
    expect(lines.join('\n')).toContain('Waiting for alice to approve it in her Countersign popup');
    expect(await w.approve(id)).toBe(200);

    const result = await running;
    expect(result).toMatchObject({ outcome: 'executed', proposalId: id, status: 200, answer: { visibility: 'all-employees', groups: ['payroll-team'] } });
    const last = w.demo.store.accessHistory('payroll-2026').at(-1)!;
    expect(last).toMatchObject({ changedBy: AGENT, visibility: 'all-employees', traceId: result.traceId });
    expect(result.receipt).toBe(last.receipt);
    const out = lines.join('\n');
    expect(out).toContain(`Proposal ${id}`);
    expect(out).toContain('Access console answered HTTP 200');
    expect(out).toContain('Receipt recorded with the change');
    expect(out).not.toContain(w.agentKey);
  });

  it('rejected by alice: reports her reason and sends nothing', async () => {
    const lines: string[] = [];
    const running = runWellBehavedAgent({ verifierUrl: w.verifierUrl, consoleUrl: w.consoleUrl, agentKey: w.agentKey, out: (l) => lines.push(l) });
    const id = await listedProposal(w);
    const changes = w.demo.store.accessHistory('payroll-2026').length;
    expect(await w.reject(id, 'Payroll stays team-only.')).toBe(200);
    expect(await running).toMatchObject({ outcome: 'rejected', reason: 'Payroll stays team-only.', status: null });
    expect(w.demo.store.datasetAccess('payroll-2026')).toEqual(TEAM_ONLY);
    expect(w.demo.store.accessHistory('payroll-2026')).toHaveLength(changes);
    expect(lines.join('\n')).toContain('Rejected by its owner: Payroll stays team-only.');
  });

  it('the real process: prints the proposal, waits, and exits 0 once the approved change is applied', async () => {
    const child = spawn('npm', ['run', '--silent', 'demo:agent', '--', '--propose'], {
      env: { ...process.env, VERIFIER_URL: w.verifierUrl, CONSOLE_URL: w.consoleUrl, COUNTERSIGN_AGENT_KEY: w.agentKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const id = await listedProposal(w);
    expect(w.demo.store.datasetAccess('payroll-2026')).toEqual(TEAM_ONLY);
    await w.approve(id);
    expect(await exited).toBe(0);
    expect(stdout).toContain(`Proposal ${id}`);
    expect(stdout).toContain('Access console answered HTTP 200');
    expect(stdout).not.toContain(w.agentKey);
    expect(w.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('all-employees');
  });

  it('its agent key: from COUNTERSIGN_AGENT_KEY, else the one npm start keeps in the data dir; without either it says how to get one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-demo-agent-'));
    try {
      expect(demoAgentKey({ env: { COUNTERSIGN_AGENT_KEY: 'csa_from_env' }, dataDir: dir })).toEqual({ key: 'csa_from_env', source: 'env' });
      expect(() => demoAgentKey({ env: {}, dataDir: dir })).toThrow(/npm start.*COUNTERSIGN_AGENT_KEY/);
      writeFileSync(join(dir, AGENT_KEY_FILE), `${w.agentKey}\n`, { mode: 0o600 });
      const kept = demoAgentKey({ env: {}, dataDir: dir });
      expect(kept).toEqual({ key: w.agentKey, source: 'file' });
      // The key works: the proposal is accepted, then rejected so nothing is left to act on.
      const lines: string[] = [];
      const running = runWellBehavedAgent({ verifierUrl: w.verifierUrl, consoleUrl: w.consoleUrl, agentKey: kept.key, out: (l) => lines.push(l) });
      await w.reject(await listedProposal(w), 'test');
      expect((await running).outcome).toBe('rejected');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
