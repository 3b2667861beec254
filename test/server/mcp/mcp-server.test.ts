// The Countersign MCP server as a model's host runs it: a real child process (`tsx server/mcp/main.ts`)
// driven by the SDK's own Client over stdio, against a real listening verifier and the demo Access
// console: approved and executed (by alice; by alice and bob under the two-person rule; by a policy
// bot's rule), rejected, expired, still pending, a URL off the allow-list, an id it did not make, and
// no token, agent key or tool credential in anything the model or the log sees. SQLite. Node only (tests).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAgentClient } from '../../../lib/agent';
import { AGENT, TOOL_KEY, WIDEN, startProposalWorld } from '../../lib/agent/proposal-world';
import type { ProposalWorld } from '../../lib/agent/proposal-world';
import { withoutPresence } from '../../helpers/policies';

const TSX = resolve('node_modules/.bin/tsx');

describe('npm run mcp (the Countersign MCP server over stdio)', () => {
  let w: ProposalWorld;
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = '';
  const seen: string[] = [];

  const call = async (name: string, args: Record<string, unknown>): Promise<{ isError: boolean; text: string; json: Record<string, unknown> | null }> => {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
    seen.push(JSON.stringify(result));
    let json: Record<string, unknown> | null = null;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // an error's plain text
    }
    return { isError: result.isError === true, text, json };
  };
  const propose = (extra: Record<string, unknown> = {}) =>
    call('propose_http_action', { method: 'PUT', url: w.accessUrl, body: WIDEN, scope: 'admin.acl.write', summary: 'Open payroll-2026 to all employees', ...extra });

  beforeAll(async () => {
    w = await startProposalWorld('sqlite');
    transport = new StdioClientTransport({
      command: TSX,
      args: ['server/mcp/main.ts'],
      cwd: process.cwd(),
      env: {
        COUNTERSIGN_VERIFIER_URL: w.verifierUrl,
        COUNTERSIGN_AGENT_KEY: w.agentKey,
        COUNTERSIGN_TOOL_ORIGINS: w.consoleUrl,
        COUNTERSIGN_TOOL_HEADERS: JSON.stringify({ [w.consoleUrl]: { 'x-agent-key': TOOL_KEY } }),
        COUNTERSIGN_MCP_MAX_WAIT_SECONDS: '20',
      },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    client = new Client({ name: 'countersign-test-host', version: '1.0.0' });
    await client.connect(transport);
  });
  afterAll(async () => {
    await client?.close();
    await w?.close();
  });
  beforeEach(() => {
    w.v.clock.now += 61_000;
    w.demo.store.setDatasetAccess('payroll-2026', { visibility: 'team-only', groups: ['payroll-team'] }, { changedBy: 'test' });
  });

  it('offers the model exactly two tools, with their inputs', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['await_approval', 'propose_http_action']);
    const proposeTool = tools.find((t) => t.name === 'propose_http_action')!;
    expect(Object.keys(proposeTool.inputSchema.properties ?? {}).sort()).toEqual(['body', 'contentField', 'contentType', 'method', 'scope', 'summary', 'url']);
    expect(proposeTool.inputSchema.required?.sort()).toEqual(['method', 'scope', 'summary', 'url']);
    expect(proposeTool.description).toContain(w.consoleUrl);
  });

  it('approved: await_approval executes the proposed request with the token and answers the tool\'s status and body; the console records a receipt', async () => {
    const proposed = await propose();
    expect(proposed.isError, proposed.text).toBe(false);
    const id = proposed.json!.proposalId as string;
    expect(proposed.json).toMatchObject({ state: 'pending' });
    // Nothing happened at the tool yet.
    expect(w.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
    const waiting = call('await_approval', { proposalId: id });
    expect(await w.approve(id)).toBe(200);
    const done = await waiting;
    expect(done.isError, done.text).toBe(false);
    expect(done.json).toMatchObject({ proposalId: id, state: 'approved', approvedBy: ['alice'], executed: true, status: 200, truncated: false });
    expect(JSON.parse(done.json!.body as string)).toEqual({ visibility: 'all-employees', groups: ['payroll-team'] });
    const last = w.demo.store.accessHistory('payroll-2026').at(-1)!;
    expect(last).toMatchObject({ changedBy: AGENT, visibility: 'all-employees', traceId: proposed.json!.traceId });
    expect(last.receipt).toBeTruthy();
    // Settled: asking again does not execute again.
    expect((await call('await_approval', { proposalId: id })).isError).toBe(true);
  });

  /** Runs `body` under alice's policy plus `rules`, and puts her policy back. */
  async function withRules(rules: string, body: () => Promise<void>, edit: (text: string) => string = (text) => text): Promise<void> {
    const before = (await w.v.admin('GET', '/v1/admin/policy')).json().text as string;
    expect((await w.v.admin('PUT', '/v1/admin/policy', { text: `${edit(before)}\n${rules}` })).statusCode).toBe(200);
    try {
      await body();
    } finally {
      expect((await w.v.admin('PUT', '/v1/admin/policy', { text: before })).statusCode).toBe(200);
    }
  }

  it('under the two-person rule: nothing runs after alice alone; after bob too, the request runs once with both approvals and the receipt names both', async () => {
    const bob = await w.v.enroll('bob');
    await withRules(
      `@id("two-for-acl") @approvers("2") permit (principal, action == Action::"quorum", resource) when { context.scope == "admin.acl.write" };
@id("bob-reviews-acl") permit (principal == User::"bob", action == Action::"approve", resource is Agent) when { context.scope == "admin.acl.write" };`,
      async () => {
        const proposed = await propose();
        const id = proposed.json!.proposalId as string;
        expect(await w.approve(id)).toBe(200);
        const early = await call('await_approval', { proposalId: id, waitSeconds: 1 });
        expect(early.json).toMatchObject({ proposalId: id, state: 'pending' });
        expect(w.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
        const waiting = call('await_approval', { proposalId: id });
        expect(await w.approve(id, bob)).toBe(200);
        const done = await waiting;
        expect(done.isError, done.text).toBe(false);
        expect(done.json).toMatchObject({ proposalId: id, state: 'approved', approvedBy: ['alice', 'bob'], executed: true, status: 200 });
        const last = w.demo.store.accessHistory('payroll-2026').at(-1)!;
        expect(last).toMatchObject({ changedBy: AGENT, visibility: 'all-employees', traceId: proposed.json!.traceId });
        expect(decodeJwt(last.receipt!)).toMatchObject({ apv: 'alice', apvs: ['alice', 'bob'] });
      },
    );
  });

  it('a proposal a policy bot\'s rule covers: approved when proposed, executed by await_approval, approved by "policy <name>"', async () => {
    await withRules(
      `@id("acl-bot-rule") @expires("2030-01-01T00:00:00Z") permit (principal == Bot::"acl-bot", action == Action::"approve", resource is Agent) when { context.scope == "admin.acl.write" };`,
      async () => {
        const proposed = await propose();
        expect(proposed.json).toMatchObject({ state: 'approved' });
        expect(proposed.json!.next).toMatch(/Already approved by policy/);
        const done = await call('await_approval', { proposalId: proposed.json!.proposalId as string });
        expect(done.isError, done.text).toBe(false);
        expect(done.json).toMatchObject({ state: 'approved', approvedBy: ['policy acl-bot'], executed: true, status: 200 });
        expect(decodeJwt(w.demo.store.accessHistory('payroll-2026').at(-1)!.receipt!)).toMatchObject({ apv: 'policy-bot:acl-bot' });
      },
      // A bot is never present: its rule covers access changes only where policy asks for no presence.
      withoutPresence,
    );
  });

  it('rejected: the reason, and nothing executed', async () => {
    const id = (await propose()).json!.proposalId as string;
    const waiting = call('await_approval', { proposalId: id });
    await w.reject(id, 'Payroll stays team-only.');
    expect((await waiting).json).toEqual({ proposalId: id, state: 'rejected', reason: 'Payroll stays team-only.', executed: false });
    expect(w.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
  });

  it('pending after the wait asked for, then expired once the policy TTL passes', async () => {
    const id = (await propose()).json!.proposalId as string;
    const first = await call('await_approval', { proposalId: id, waitSeconds: 1 });
    expect(first.json).toMatchObject({ proposalId: id, state: 'pending' });
    w.v.clock.now += 121_000;
    expect((await call('await_approval', { proposalId: id })).json).toMatchObject({ proposalId: id, state: 'expired', executed: false });
    expect(w.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
  });

  it('attack: a URL off the allow-list (another origin, the verifier itself) is refused and never proposed', async () => {
    const before = (await w.pending()).length;
    for (const url of ['https://evil.example/api/datasets/payroll-2026/access', `${w.verifierUrl}/v1/admin/kill`, `${w.forumUrl}/api/topics/1/replies`]) {
      const refused = await propose({ url });
      expect(refused.isError).toBe(true);
      expect(refused.text).toContain('is not an allowed tool origin');
    }
    expect((await w.pending()).length).toBe(before);
  });

  it('attack: the model names a proposal this server did not make: refused, nothing executed', async () => {
    // A proposal of the same agent made elsewhere: the server holds no request for it, so it cannot run one the model supplies.
    const elsewhere = await createAgentClient({ verifier: w.verifierUrl, agentKey: w.agentKey }).propose({
      request: { method: 'PUT', url: w.accessUrl, contentType: 'application/json', body: WIDEN },
      scope: 'admin.acl.write',
      summary: 'made outside the MCP server',
    });
    await w.approve(elsewhere.id);
    const refused = await call('await_approval', { proposalId: elsewhere.id });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('was made through this server');
    expect(w.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
    const bad = await client.callTool({ name: 'await_approval', arguments: { proposalId: '../../v1/admin' } });
    expect(bad.isError).toBe(true);
  });

  it('a refusal by the verifier reaches the model as its code, without the key', async () => {
    const refused = await propose({ scope: 'forum.post' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/approver_not_authorized \(HTTP 403\)/);
  });

  it('attack: no approval token, agent key or tool credential in any tool result or log line', async () => {
    const rows = await w.v.database.db.selectFrom('proposals').select('token').where('token', 'is not', null).execute();
    // Every approval of a quorum (bob's too) and a bot's are kept one by one.
    const approvals = await w.v.database.db.selectFrom('proposal_approvals').select('token').execute();
    const tokens = [...rows, ...approvals].map((r) => r.token!).filter(Boolean);
    expect(approvals.length).toBeGreaterThan(rows.length);
    expect(tokens.length).toBeGreaterThan(0);
    const everything = `${seen.join('\n')}\n${stderr}`;
    expect(everything.length).toBeGreaterThan(0);
    for (const secret of [w.agentKey, TOOL_KEY, ...tokens]) expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });

  it('does not start without its configuration, naming the variables and never their values', () => {
    const run = spawnSync('npm', ['run', '--silent', 'mcp'], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', COUNTERSIGN_AGENT_KEY: 'csa_do-not-print-me', COUNTERSIGN_TOOL_ORIGINS: 'not an origin' },
      input: '',
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('COUNTERSIGN_VERIFIER_URL');
    expect(run.stderr).toContain('COUNTERSIGN_TOOL_ORIGINS');
    expect(run.stderr).not.toContain('csa_do-not-print-me');
    expect(run.stdout).toBe('');
  });
});
