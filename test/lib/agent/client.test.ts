// The agent client (lib/agent) against a real listening verifier and the demo Access console behind
// its middleware: propose, wait for alice's device to decide, execute exactly the proposed request with
// the token (or every token of the two-person rule; a policy bot's); rejection, expiry, typed refusals,
// a key revoked mid-wait, abort, timeout, a verifier that is briefly or wholly away. SQLite and
// PostgreSQL. Node only (tests).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DecisionTimeout, UnexpectedAnswer, VerifierRefusal, VerifierUnreachable, createAgentClient } from '../../../lib/agent';
import type { AgentClient } from '../../../lib/agent';
import type { ActionRequest } from '../../../lib/protocol';
import { freePort } from '../../../demo/free-port';
import { DATABASES } from '../../helpers/verifier';
import { withoutPresence } from '../../helpers/policies';
import { AGENT, TOOL_KEY, WIDEN, startProposalWorld } from './proposal-world';
import type { ProposalWorld } from './proposal-world';

describe.each(DATABASES)('agent client (%s)', (kind) => {
  let w: ProposalWorld;
  let client: AgentClient;
  let widen: ActionRequest;
  const proposal = () => ({ request: widen, scope: 'admin.acl.write', summary: 'Open payroll-2026 to all employees' });

  beforeAll(async () => {
    w = await startProposalWorld(kind);
    client = createAgentClient({ verifier: w.verifierUrl, agentKey: w.agentKey });
    widen = { method: 'PUT', url: w.accessUrl, contentType: 'application/json', body: WIDEN };
  });
  afterAll(() => w.close());
  beforeEach(() => {
    // Past the per-agent rate-limit window of the previous test; reset the dataset.
    w.v.clock.now += 61_000;
    w.demo.store.setDatasetAccess('payroll-2026', { visibility: 'team-only', groups: ['payroll-team'] }, { changedBy: 'test' });
  });

  it('proposed, approved by alice\'s device, executed: the console applies the change with a receipt under the proposal\'s trace', async () => {
    const created = await client.propose(proposal());
    expect(created.state).toBe('pending');
    const waiting = client.waitForDecision(created.id);
    expect(await w.approve(created.id)).toBe(200);
    const decision = await waiting;
    expect(decision.state).toBe('approved');
    if (decision.state !== 'approved') return;
    // Before the agent executes, nothing has changed.
    expect(w.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
    const response = await client.execute(widen, decision.token, { headers: { 'x-agent-key': TOOL_KEY } });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toEqual({ visibility: 'all-employees', groups: ['payroll-team'] });
    const last = w.demo.store.accessHistory('payroll-2026').at(-1)!;
    expect(last).toMatchObject({ changedBy: AGENT, visibility: 'all-employees', traceId: created.traceId });
    expect(last.receipt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // The token is single use: the same request again is refused by the tool.
    const again = await client.execute(widen, decision.token, { headers: { 'x-agent-key': TOOL_KEY } });
    expect([again.status, (await again.json()).error.code]).toEqual([409, 'replayed']);
  });

  it('under the two-person rule: pending after alice, approved after bob; execute sends both tokens in one header and the console applies it once', async () => {
    const bob = await w.v.enroll('bob');
    const quorum = `${(await w.v.admin('GET', '/v1/admin/policy')).json().text}
@id("two-for-acl") @approvers("2") permit (principal, action == Action::"quorum", resource) when { context.scope == "admin.acl.write" };
@id("bob-reviews") permit (principal == User::"bob", action == Action::"approve", resource is Agent) when { context.scope == "admin.acl.write" };`;
    const before = (await w.v.admin('GET', '/v1/admin/policy')).json().text as string;
    expect((await w.v.admin('PUT', '/v1/admin/policy', { text: quorum })).statusCode).toBe(200);
    try {
      const created = await client.propose(proposal());
      expect(created.quorum).toBe(2);
      const waiting = client.waitForDecision(created.id);
      expect(await w.approve(created.id)).toBe(200);
      expect((await client.status(created.id)).state).toBe('pending');
      expect(await w.approve(created.id, bob)).toBe(200);
      const decision = await waiting;
      if (decision.state !== 'approved') throw new Error(`not approved: ${decision.state}`);
      expect(decision.tokens).toHaveLength(2);
      expect(decision.approvers).toEqual(['alice', 'bob']);
      // The first token alone is not enough for the console.
      const alone = await client.execute(widen, decision.token, { headers: { 'x-agent-key': TOOL_KEY } });
      expect([alone.status, (await alone.json()).error.code]).toEqual([403, 'quorum_not_met']);
      const response = await client.execute(widen, decision.tokens, { headers: { 'x-agent-key': TOOL_KEY } });
      expect(response.status, await response.clone().text()).toBe(200);
      expect(w.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('all-employees');
      await expect(client.execute(widen, [], {})).rejects.toThrow(TypeError);
      await expect(client.execute(widen, ['a.b.c, d.e.f'], {})).rejects.toThrow(TypeError);
    } finally {
      expect((await w.v.admin('PUT', '/v1/admin/policy', { text: before })).statusCode).toBe(200);
    }
  });

  it('a proposal a policy bot\'s rule covers: approved when proposed, the decision names the bot, and the console\'s receipt too', async () => {
    const before = (await w.v.admin('GET', '/v1/admin/policy')).json().text as string;
    const rule = '@id("acl-bot-rule") @expires("2030-01-01T00:00:00Z") permit (principal == Bot::"acl-bot", action == Action::"approve", resource is Agent) when { context.scope == "admin.acl.write" };';
    // A bot is never present: its rule covers access changes only where policy asks for no presence.
    expect((await w.v.admin('PUT', '/v1/admin/policy', { text: `${withoutPresence(before)}\n${rule}` })).statusCode).toBe(200);
    try {
      const created = await client.propose(proposal());
      expect(created.state).toBe('approved');
      const decision = await client.waitForDecision(created.id);
      if (decision.state !== 'approved') throw new Error(`not approved: ${decision.state}`);
      expect(decision.approvers).toEqual(['policy-bot:acl-bot']);
      expect(decision.tokens).toEqual([decision.token]);
      const response = await client.execute(widen, decision.tokens, { headers: { 'x-agent-key': TOOL_KEY } });
      expect(response.status, await response.clone().text()).toBe(200);
      expect(decodeJwt(w.demo.store.accessHistory('payroll-2026').at(-1)!.receipt!)).toMatchObject({ apv: 'policy-bot:acl-bot' });
    } finally {
      expect((await w.v.admin('PUT', '/v1/admin/policy', { text: before })).statusCode).toBe(200);
    }
  });

  it('attack: the agent sends another body than the one approved: the tool refuses (action_mismatch), nothing changes', async () => {
    const created = await client.propose(proposal());
    await w.approve(created.id);
    const decision = await client.waitForDecision(created.id);
    if (decision.state !== 'approved') throw new Error('not approved');
    const swapped = { ...widen, body: JSON.stringify({ visibility: 'all-employees', groups: [] }) };
    const response = await client.execute(swapped, decision.token, { headers: { 'x-agent-key': TOOL_KEY } });
    expect([response.status, (await response.json()).error.code]).toEqual([403, 'action_mismatch']);
    expect(w.demo.store.datasetAccess('payroll-2026')).toEqual({ visibility: 'team-only', groups: ['payroll-team'] });
  });

  it('rejected: the wait ends with alice\'s reason and no token', async () => {
    const created = await client.propose(proposal());
    const waiting = client.waitForDecision(created.id);
    expect(await w.reject(created.id, 'Payroll stays team-only.')).toBe(200);
    expect(await waiting).toEqual({ id: created.id, state: 'rejected', reason: 'Payroll stays team-only.' });
  });

  it('expired: a proposal nobody decides within the policy TTL ends expired', async () => {
    const created = await client.propose(proposal());
    w.v.clock.now += 121_000;
    expect(await client.waitForDecision(created.id)).toEqual({ id: created.id, state: 'expired' });
  });

  it('a refusal is a VerifierRefusal with DESIGN.md\'s code, status and trace id, and never the agent key', async () => {
    const refused = await client.propose({ ...proposal(), scope: 'forum.post' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(VerifierRefusal);
    const r = refused as VerifierRefusal;
    expect([r.code, r.status]).toEqual(['approver_not_authorized', 403]);
    expect(r.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(`${r.message} ${r.stack}`).not.toContain(w.agentKey);

    const stranger = createAgentClient({ verifier: w.verifierUrl, agentKey: `csa_${'A'.repeat(42)}Q` });
    const unauthorized = (await stranger.propose(proposal()).catch((e: unknown) => e)) as VerifierRefusal;
    expect([unauthorized.code, unauthorized.status]).toEqual(['unauthorized', 401]);
  });

  it('bad input is refused before anything is sent (TypeError naming the field)', async () => {
    await expect(client.propose({ ...proposal(), summary: '' })).rejects.toThrow(/propose: summary/);
    await expect(client.waitForDecision('not-an-id')).rejects.toThrow(TypeError);
    expect(() => createAgentClient({ verifier: 'ftp://x', agentKey: 'k' })).toThrow(/createAgentClient: verifier/);
    await expect(client.execute(widen, 't', { headers: { 'Countersign-Approval': 'other' } })).rejects.toThrow(/comes from the proposal/);
  });

  it('attack: the agent key is revoked while the agent waits: the wait ends with 401 unauthorized', async () => {
    const { key, keyId } = await w.newKey();
    let polling: () => void = () => undefined;
    const polled = new Promise<void>((r) => (polling = r));
    const watching: typeof fetch = (input, init) => {
      if ((init?.method ?? 'GET') === 'GET') polling();
      return fetch(input, init);
    };
    const own = createAgentClient({ verifier: w.verifierUrl, agentKey: key, fetch: watching });
    const created = await own.propose(proposal());
    const waiting = own.waitForDecision(created.id).catch((e: unknown) => e);
    // The long poll is sent, and has reached the verifier, before the key goes.
    await polled;
    await new Promise((r) => setTimeout(r, 300));
    await w.revokeKey(keyId);
    const ended = (await waiting) as VerifierRefusal;
    expect(ended).toBeInstanceOf(VerifierRefusal);
    expect([ended.code, ended.status]).toEqual(['unauthorized', 401]);
  });

  it('an abort signal ends the wait with its reason, the in-flight long poll included', async () => {
    const created = await client.propose(proposal());
    const signals: AbortSignal[] = [];
    let polling: () => void = () => undefined;
    const polled = new Promise<void>((r) => (polling = r));
    const watching: typeof fetch = (input, init) => {
      if (init?.signal) signals.push(init.signal);
      polling();
      return fetch(input, init);
    };
    const own = createAgentClient({ verifier: w.verifierUrl, agentKey: w.agentKey, fetch: watching });
    const controller = new AbortController();
    const waiting = own.waitForDecision(created.id, { signal: controller.signal }).catch((e: unknown) => e);
    await polled;
    controller.abort(new Error('the agent gave up'));
    expect(((await waiting) as Error).message).toBe('the agent gave up');
    // The long poll in flight was aborted too, not left to run out its 30 s.
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(true);
    // Nothing was decided: the proposal is still pending for alice.
    expect((await w.pending()).map((p) => p.id)).toContain(created.id);
  });

  it('a timeout while pending is a DecisionTimeout, not a state', async () => {
    const created = await client.propose(proposal());
    const ended = await client.waitForDecision(created.id, { timeoutMs: 1200 }).catch((e: unknown) => e);
    expect(ended).toBeInstanceOf(DecisionTimeout);
    expect((ended as DecisionTimeout).proposalId).toBe(created.id);
  });

  it('a verifier that is briefly away (network failure, 503) is retried; the decision still arrives', async () => {
    const created = await client.propose(proposal());
    await w.reject(created.id, 'No.');
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls += 1;
      if (calls === 1) throw new TypeError('fetch failed');
      if (calls === 2) return new Response('<html>bad gateway</html>', { status: 503 });
      return fetch(input, init);
    };
    const patient = createAgentClient({ verifier: w.verifierUrl, agentKey: w.agentKey, fetch: flaky, retry: { baseDelayMs: 10 } });
    expect(await patient.waitForDecision(created.id)).toEqual({ id: created.id, state: 'rejected', reason: 'No.' });
    expect(calls).toBe(3);
  });

  it('a verifier that never answers ends the wait with VerifierUnreachable after the bounded tries', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const lost = createAgentClient({ verifier: nobody, agentKey: w.agentKey, retry: { attempts: 3, baseDelayMs: 5 } });
    const refusedPropose = await lost.propose(proposal()).catch((e: unknown) => e);
    expect(refusedPropose).toBeInstanceOf(VerifierUnreachable);
    expect((refusedPropose as VerifierUnreachable).attempts).toBe(1);
    const ended = await lost.waitForDecision('prp_AAAAAAAAAAAAAAAAAAAAAA').catch((e: unknown) => e);
    expect(ended).toBeInstanceOf(VerifierUnreachable);
    expect((ended as VerifierUnreachable).attempts).toBe(3);
    expect((ended as Error).message).not.toContain(w.agentKey);
  });
});

describe('execute sends exactly the proposed request', () => {
  type Seen = { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer };
  let seen: Seen[] = [];
  let base: string;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      if (req.url === '/redirect') res.writeHead(307, { location: '/elsewhere' }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    seen = [];
  });
  const client = () => createAgentClient({ verifier: 'http://127.0.0.1:1', agentKey: 'k' });

  it('method, URL, content type and the body\'s UTF-8 bytes as proposed, with the token and the agent\'s tool credential', async () => {
    const body = '{"note":"Grüße — ✓"}';
    const response = await client().execute({ method: 'patch', url: `${base}/api/x?y=1`, contentType: 'application/json; charset=utf-8', body }, 'tok.en.x', { headers: { 'x-agent-key': 'tool-key' } });
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'PATCH', url: '/api/x?y=1' });
    expect(seen[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(seen[0]!.headers['countersign-approval']).toBe('tok.en.x');
    expect(seen[0]!.headers['x-agent-key']).toBe('tool-key');
    expect(seen[0]!.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
  });

  it('a quorum\'s tokens go as one Countersign-Approval list, in order; a token that would split differently is refused before sending', async () => {
    await client().execute({ method: 'PUT', url: `${base}/api/x`, contentType: 'text/plain', body: 'x' }, ['a.b.c', 'd.e.f', 'g.h.i']);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['countersign-approval']).toBe('a.b.c, d.e.f, g.h.i');
    for (const bad of [[], ['a.b.c', ''], ['a.b c'], ['a.b.c,d.e.f'], Array.from({ length: 6 }, (_, i) => `t.${i}.x`)]) {
      await expect(client().execute({ method: 'PUT', url: `${base}/api/x`, contentType: null, body: null }, bad), JSON.stringify(bad)).rejects.toThrow(TypeError);
    }
    expect(seen).toHaveLength(1);
  });

  it('attack: an approved status whose token is not the first of its tokens is an UnexpectedAnswer, not a decision', async () => {
    const id = 'prp_AAAAAAAAAAAAAAAAAAAAAA';
    const odd: typeof fetch = async () => Response.json({ id, state: 'approved', token: 'x.y.z', tokens: ['a.b.c', 'x.y.z'], approvers: ['alice', 'bob'] });
    const ended = await createAgentClient({ verifier: 'http://127.0.0.1:1', agentKey: 'k', fetch: odd }).waitForDecision(id).catch((e: unknown) => e);
    expect(ended).toBeInstanceOf(UnexpectedAnswer);
  });

  it('no body and no content type: fetch adds no Content-Type of its own', async () => {
    await client().execute({ method: 'DELETE', url: `${base}/api/x`, contentType: null, body: null }, 't.o.k');
    expect(seen[0]!.headers['content-type']).toBeUndefined();
    expect(seen[0]!.body.length).toBe(0);
  });

  it('attack: a redirect from the tool is not followed, so the token goes to the approved URL only', async () => {
    const response = await client().execute({ method: 'POST', url: `${base}/redirect`, contentType: 'text/plain', body: 'x' }, 't.o.k');
    expect(response.status).toBe(307);
    expect(seen.map((s) => s.url)).toEqual(['/redirect']);
  });
});
