// The agent proposal routes (DESIGN.md, "Agent proposals"): an agent proposes with its key and waits,
// an approver's device lists and decides, the agent gets the token and the tool consumes it. Policy is
// checked when the proposal is made; the first decision wins; limits, expiry, revocation mid-wait,
// kill switches, device-proof replay; every step a decision record under the proposal's trace.
// SQLite and PostgreSQL. Node only (tests).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProposalCreated, ProposalList, ProposalStatus, mintDeviceProof } from '../../../lib/protocol';
import type { ActionRequest, ProposalCreateRequest } from '../../../lib/protocol';
import { DATABASES, FORUM_REQUEST, PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';

const AGENT = 'agent:forum-helper';
const SITE = 'http://127.0.0.1:8080';

function proposalOf(text: string, extra: Partial<ProposalCreateRequest> = {}): ProposalCreateRequest {
  const request: ActionRequest = { ...FORUM_REQUEST, body: JSON.stringify({ body: text, author_kind: 'assistant' }) };
  return { request, scope: 'forum.post', summary: `Reply: ${text}`, contentField: '/body', ...extra };
}

describe.each(DATABASES)('agent proposals (%s)', (kind) => {
  let v: TestVerifier;
  let alice: Device;
  let bob: Device;
  let key: string;
  let keyId: string;
  let otherKey: string;
  let n = 0;

  beforeAll(async () => {
    // No background sweep: the long-poll tests learn that a poll is waiting from its own sweep (waitingOn).
    v = await startVerifier(kind, { proposalSweepMs: 3_600_000 });
    alice = await v.enroll('alice');
    bob = await v.enroll('bob');
    await v.registerAgent(AGENT, 'alice', ['forum.post'], [SITE]);
    await v.registerAgent('agent:other', 'bob', ['forum.post'], [SITE]);
    ({ key, keyId } = (await v.admin('POST', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys`)).json() as { key: string; keyId: string });
    ({ key: otherKey } = (await v.admin('POST', '/v1/admin/agents/agent:other/keys')).json() as { key: string });
  });
  afterAll(() => v.close());
  // Each test starts a minute on, past the previous one's rate-limit window.
  beforeEach(() => {
    v.clock.now += 61_000;
  });

  const propose = (body: unknown, agentKey = key) => v.app.inject({ method: 'POST', url: '/v1/proposals', headers: { authorization: `Bearer ${agentKey}` }, payload: body as object });
  const poll = (id: string, wait = 0, agentKey = key) => v.app.inject({ method: 'GET', url: `/v1/proposals/${id}?wait=${wait}`, headers: { authorization: `Bearer ${agentKey}` } });
  async function deviceCall(device: Device, method: 'GET' | 'POST', url: string, payload?: unknown, proof?: string) {
    const authorization = proof ?? (await mintDeviceProof({ privateKey: device.privateKey, kid: device.kid, method, url: `${PUBLIC_URL}${url}`, now: v.seconds() }));
    return v.app.inject({ method, url, headers: { authorization }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  }
  const list = (device: Device) => deviceCall(device, 'GET', '/v1/proposals?state=pending');
  const decideOn = (device: Device, id: string, decision: unknown) => deviceCall(device, 'POST', `/v1/proposals/${id}/decision`, decision);
  async function made(text = `reply ${++n}`): Promise<ProposalCreated & { body: ProposalCreateRequest }> {
    const body = proposalOf(text);
    const res = await propose(body);
    expect(res.statusCode, res.body).toBe(201);
    return { ...ProposalCreated.parse(res.json()), body };
  }
  /**
   * Starts a long poll on a fresh proposal and resolves once the poll is waiting: a marker proposal
   * made due just before is expired by the poll's own sweep, which runs after the poll authenticated.
   */
  async function waitingOn(agentKey = key): Promise<{ p: ProposalCreated; waiting: ReturnType<typeof poll> }> {
    const marker = await made();
    v.clock.now += 100_000;
    const res = await propose(proposalOf(`waited on ${++n}`), agentKey);
    expect(res.statusCode, res.body).toBe(201);
    const p = ProposalCreated.parse(res.json());
    v.clock.now += 30_000;
    const waiting = poll(p.id, 30, agentKey);
    const markerCodes = async () => (await v.admin('GET', `/v1/admin/events?trace=${marker.traceId}`)).json().decisions.map((d: { code: string }) => d.code) as string[];
    while (!(await markerCodes()).includes('expired')) await new Promise((resolve) => setImmediate(resolve));
    return { p, waiting };
  }
  async function approval(device: Device, p: { body: ProposalCreateRequest; traceId: string }, over: { agent?: string; scope?: string; request?: ActionRequest; traceId?: string } = {}) {
    return (await v.mint(device, { request: over.request ?? p.body.request, agent: over.agent ?? AGENT, scope: over.scope ?? p.body.scope, traceId: over.traceId ?? p.traceId })).token;
  }

  it('the whole life: proposed, listed for the owner (not for bob), approved by her device, the token handed to the agent and consumed by the tool; every step under one trace', async () => {
    const p = await made('Try revoking the group grant.');
    expect(p).toMatchObject({ state: 'pending', expiresAt: v.seconds() + 120 });
    const forAlice = ProposalList.parse((await list(alice)).json());
    expect(forAlice.proposals.map((x) => x.id)).toContain(p.id);
    expect(forAlice.proposals.find((x) => x.id === p.id)).toMatchObject({ agent: AGENT, scope: 'forum.post', summary: p.body.summary, request: p.body.request, digest: p.digest, traceId: p.traceId, contentField: '/body' });
    expect(ProposalList.parse((await list(bob)).json()).proposals.map((x) => x.id)).not.toContain(p.id);
    expect(ProposalStatus.parse((await poll(p.id)).json())).toEqual({ id: p.id, state: 'pending' });

    const decided = await decideOn(alice, p.id, { approve: await approval(alice, p) });
    expect([decided.statusCode, decided.json()]).toEqual([200, { state: 'approved' }]);
    const status = ProposalStatus.parse((await poll(p.id)).json());
    expect(status.state).toBe('approved');
    const verified = await v.verify({ token: status.token, request: p.body.request, contentField: '/body', principal: { kind: 'agent', id: AGENT } });
    expect(verified.statusCode, verified.body).toBe(200);
    expect((await v.verify({ token: status.token, request: p.body.request, principal: { kind: 'agent', id: AGENT } })).json().error.code).toBe('replayed');

    const events = await v.admin('GET', `/v1/admin/events?trace=${p.traceId}`);
    expect(events.json().decisions.map((d: { code: string }) => d.code)).toEqual(['proposed', 'approved', 'handed_out', 'allow', 'replayed']);
    expect(JSON.stringify(events.json())).not.toContain(status.token!);
  });

  it('a long poll under way is answered with the decision that lands during it', async () => {
    const { p, waiting } = await waitingOn();
    const rejected = await decideOn(alice, p.id, { reject: { reason: 'Not this week.' } });
    expect(rejected.json()).toEqual({ state: 'rejected' });
    expect(ProposalStatus.parse((await waiting).json())).toEqual({ id: p.id, state: 'rejected', reason: 'Not this week.' });
  });

  it('attack: an action no one may approve (a scope the agent is not registered for, another site) is refused when proposed, with a record', async () => {
    const wrongScope = await propose(proposalOf('x', { scope: 'admin.acl.write' }));
    expect([wrongScope.statusCode, wrongScope.json().error.code]).toEqual([403, 'approver_not_authorized']);
    const otherSite = await propose(proposalOf('x', { request: { ...FORUM_REQUEST, url: 'https://elsewhere.example/api/x' } }));
    expect(otherSite.json().error.code).toBe('approver_not_authorized');
    const trace = wrongScope.json().error.traceId as string;
    expect((await v.admin('GET', `/v1/admin/events?trace=${trace}`)).json().decisions.map((d: { code: string }) => d.code)).toEqual(['approver_not_authorized']);
  });

  it('attack: no key, a forged key, a revoked key: 401; another agent polling this proposal: 404', async () => {
    expect((await v.app.inject({ method: 'POST', url: '/v1/proposals', payload: proposalOf('x') })).json().error.code).toBe('unauthorized');
    expect((await propose(proposalOf('x'), `csa_${'A'.repeat(42)}Q`)).json().error.code).toBe('unauthorized');
    const p = await made();
    expect((await poll(p.id, 0, otherKey)).statusCode).toBe(404);
    expect((await poll('prp_AAAAAAAAAAAAAAAAAAAAAA')).statusCode).toBe(404);

    const { key: revoked, keyId: revokedId } = (await v.admin('POST', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys`)).json() as { key: string; keyId: string };
    const q = ProposalCreated.parse((await propose(proposalOf('made before the revocation'), revoked)).json());
    expect((await v.admin('DELETE', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys/${revokedId}`)).statusCode).toBe(200);
    for (const res of [await propose(proposalOf('after the revocation'), revoked), await poll(q.id, 0, revoked), await poll(p.id, 0, revoked)]) {
      expect([res.statusCode, res.json().error.code]).toEqual([401, 'unauthorized']);
    }
    // The agent itself, with its live key, still reads the proposal made with the revoked one.
    expect(ProposalStatus.parse((await poll(q.id)).json()).state).toBe('pending');
  });

  it('rate limits: the sixth proposal in a minute is 429; a minute later it is fine again', async () => {
    for (let i = 0; i < 5; i++) await made();
    const sixth = await propose(proposalOf('sixth'));
    expect([sixth.statusCode, sixth.json().error.code]).toEqual([429, 'rate_limited']);
    v.clock.now += 61_000;
    await made();
  });

  it('rate limits: an approver with 20 pending proposals is offered no more: 429', async () => {
    // Clear what earlier tests left pending; four agents of alice's, five proposals each, within a minute.
    v.clock.now += 10 * 60_000;
    const keys: string[] = [];
    for (let a = 0; a < 4; a++) {
      await v.registerAgent(`agent:batch-${a}`, 'alice', ['forum.post'], [SITE]);
      keys.push(((await v.admin('POST', `/v1/admin/agents/agent:batch-${a}/keys`)).json() as { key: string }).key);
    }
    for (let i = 0; i < 20; i++) expect((await propose(proposalOf(`batch ${i}`), keys[i % 4])).statusCode).toBe(201);
    expect(ProposalList.parse((await list(alice)).json()).proposals).toHaveLength(20);
    const over = await propose(proposalOf('21st'));
    expect([over.statusCode, over.json().error?.code]).toEqual([429, 'rate_limited']);
    v.clock.now += 10 * 60_000;
  });

  it('attack: concurrent decisions — exactly one wins, the other is 409 already_decided', async () => {
    for (let round = 0; round < 3; round++) {
      const p = await made();
      const token = await approval(alice, p);
      const answers = await Promise.all([decideOn(alice, p.id, { approve: token }), decideOn(alice, p.id, { reject: { reason: 'no' } }), decideOn(alice, p.id, { approve: token })]);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409, 409]);
      const winner = answers.find((a) => a.statusCode === 200)!.json().state as string;
      expect(ProposalStatus.parse((await poll(p.id)).json()).state).toBe(winner);
      const codes = (await v.admin('GET', `/v1/admin/events?trace=${p.traceId}`)).json().decisions.map((d: { code: string }) => d.code);
      expect(codes.filter((c: string) => c === 'approved' || c === 'rejected')).toEqual([winner]);
    }
  });

  it('attack: a token for another request, scope, agent or trace, or signed by bob (not an approver): refused, the proposal still pending', async () => {
    const p = await made();
    const other = proposalOf('something else').request;
    for (const [token, code] of [
      [await approval(alice, p, { request: other }), 'action_mismatch'],
      [await approval(alice, p, { scope: 'admin.acl.write' }), 'action_mismatch'],
      [await approval(alice, p, { agent: 'agent:other' }), 'action_mismatch'],
      [await approval(alice, p, { traceId: '0af7651916cd43dd8448eb211c80319c' }), 'action_mismatch'],
    ] as const) {
      expect((await decideOn(alice, p.id, { approve: token })).json().error.code).toBe(code);
    }
    expect((await decideOn(bob, p.id, { approve: await approval(bob, p) })).json().error.code).toBe('approver_not_authorized');
    // Alice's token presented by bob's device.
    expect((await decideOn(bob, p.id, { approve: await approval(alice, p) })).json().error.code).toBe('approver_not_authorized');
    expect(ProposalStatus.parse((await poll(p.id)).json()).state).toBe('pending');
  });

  it('attack: a replayed device proof is 409 replayed; a revoked device cannot list or decide', async () => {
    const p = await made();
    const url = `/v1/proposals/${p.id}/decision`;
    const proof = await mintDeviceProof({ privateKey: alice.privateKey, kid: alice.kid, method: 'POST', url: `${PUBLIC_URL}${url}`, now: v.seconds() });
    expect((await deviceCall(alice, 'POST', url, { reject: { reason: 'first' } }, proof)).statusCode).toBe(200);
    expect((await deviceCall(alice, 'POST', url, { reject: { reason: 'again' } }, proof)).json().error.code).toBe('replayed');
    // A proof for the list is not a proof for a decision.
    const listProof = await mintDeviceProof({ privateKey: alice.privateKey, kid: alice.kid, method: 'GET', url: `${PUBLIC_URL}/v1/proposals?state=pending`, now: v.seconds() });
    expect((await deviceCall(alice, 'POST', url, { reject: { reason: 'x' } }, listProof)).json().error.code).toBe('action_mismatch');

    const carol = await v.enroll('carol');
    await v.registerAgent('agent:carols', 'carol', ['forum.post'], [SITE]);
    const carolKey = ((await v.admin('POST', '/v1/admin/agents/agent:carols/keys')).json() as { key: string }).key;
    const q = ProposalCreated.parse((await propose(proposalOf('for carol'), carolKey)).json());
    expect((await v.admin('POST', `/v1/admin/devices/${carol.kid}/revoke`)).statusCode).toBe(200);
    expect((await list(carol)).json().error.code).toBe('key_revoked');
    expect((await decideOn(carol, q.id, { reject: { reason: 'x' } })).json().error.code).toBe('key_revoked');
  });

  it('expiry: a proposal nobody decides expires with the policy TTL, is answered expired, cannot be decided, and its record is written', async () => {
    const p = await made();
    const token = await approval(alice, p);
    v.clock.now += 121_000;
    expect(ProposalStatus.parse((await poll(p.id)).json())).toEqual({ id: p.id, state: 'expired' });
    expect(ProposalList.parse((await list(alice)).json()).proposals.map((x) => x.id)).not.toContain(p.id);
    expect((await decideOn(alice, p.id, { approve: token })).json().error.code).toBe('already_decided');
    expect((await v.admin('GET', `/v1/admin/events?trace=${p.traceId}`)).json().decisions.map((d: { code: string }) => d.code)).toEqual(['proposed', 'expired', 'already_decided']);
  });

  it('expiry survives a restart: a proposal left pending when the verifier stopped is expired with its record after it starts again', async () => {
    const p = await made();
    v.clock.now += 121_000;
    await v.restart();
    await v.app.ready();
    const codes = (await v.admin('GET', `/v1/admin/events?trace=${p.traceId}`)).json().decisions.map((d: { code: string }) => d.code);
    expect(codes).toEqual(['proposed', 'expired']);
  });

  it('attack: a key revoked while its agent waits ends the wait with 401', async () => {
    const { key: temp, keyId: tempId } = (await v.admin('POST', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys`)).json() as { key: string; keyId: string };
    const { p, waiting } = await waitingOn(temp);
    expect((await v.admin('DELETE', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys/${tempId}`)).statusCode).toBe(200);
    const answer = await waiting;
    expect([answer.statusCode, answer.json().error]).toEqual([401, expect.objectContaining({ code: 'unauthorized', traceId: p.traceId })]);
    expect(keyId).not.toBe(tempId);
    // The wait's end is in the proposal's life; the proposal itself is still pending for its owner.
    const codes = (await v.admin('GET', `/v1/admin/events?trace=${p.traceId}`)).json().decisions.map((d: { code: string }) => d.code);
    expect(codes).toEqual(['proposed', 'unauthorized']);
    expect(ProposalStatus.parse((await poll(p.id)).json()).state).toBe('pending');
  });

  it('closing the verifier ends a long poll in flight over real HTTP: it is answered pending and close() returns', async () => {
    const w = await startVerifier(kind);
    try {
      await w.enroll('alice');
      await w.registerAgent(AGENT, 'alice', ['forum.post'], [SITE]);
      const k = ((await w.admin('POST', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys`)).json() as { key: string }).key;
      const p = ProposalCreated.parse((await w.app.inject({ method: 'POST', url: '/v1/proposals', headers: { authorization: `Bearer ${k}` }, payload: proposalOf('left waiting') })).json());
      const address = await w.app.listen({ port: 0, host: '127.0.0.1' });
      const waiting = fetch(`${address}/v1/proposals/${p.id}?wait=30`, { headers: { authorization: `Bearer ${k}` } });
      // The poll has reached its wait once a no-wait poll on the same proposal has been answered after it.
      expect((await fetch(`${address}/v1/proposals/${p.id}?wait=0`, { headers: { authorization: `Bearer ${k}` } })).status).toBe(200);
      const closing = w.app.close();
      const answer = await waiting;
      expect([answer.status, await answer.json()]).toEqual([200, { id: p.id, state: 'pending' }]);
      // Else the idle keep-alive connection holds close() until the client's timeout.
      expect(answer.headers.get('connection')).toBe('close');
      await closing;
    } finally {
      await w.close();
    }
  });

  it('attack: kill switches — no proposal made, no decision taken, no token handed out while one applies', async () => {
    const approved = await made();
    expect((await decideOn(alice, approved.id, { approve: await approval(alice, approved) })).statusCode).toBe(200);
    const pending = await made();
    const token = await approval(alice, pending);
    expect((await v.admin('POST', '/v1/admin/kill', { scope: 'agent', target: AGENT })).statusCode).toBe(200);
    expect((await propose(proposalOf('during the kill'))).json().error.code).toBe('kill_switch_engaged');
    expect((await decideOn(alice, pending.id, { approve: token })).json().error.code).toBe('kill_switch_engaged');
    const handed = await poll(approved.id);
    expect([handed.statusCode, handed.json().error.code]).toEqual([403, 'kill_switch_engaged']);
    expect(handed.body).not.toMatch(/eyJ/);
    expect((await v.admin('DELETE', '/v1/admin/kill', { scope: 'agent', target: AGENT })).statusCode).toBe(200);
    // A token signed before the kill stays void after it is lifted, so it is not handed out either.
    expect((await poll(approved.id)).json().error.code).toBe('kill_switch_engaged');
    v.clock.now += 1000;
    expect((await decideOn(alice, pending.id, { approve: await approval(alice, pending) })).statusCode).toBe(200);
    expect(ProposalStatus.parse((await poll(pending.id)).json()).state).toBe('approved');
  });

  it('bad input gets DESIGN.md\'s error shape: a malformed body, an unknown field, a bad id, wait over 30, another state', async () => {
    const cases = [
      await propose({ ...proposalOf('x'), extra: 1 }),
      await propose({ ...proposalOf('x'), summary: '' }),
      await propose({ ...proposalOf('x'), summary: 'bidi \u202e override' }),
      await propose(proposalOf('x', { request: { ...FORUM_REQUEST, url: 'not a url' } })),
      await propose(proposalOf('x', { request: { ...FORUM_REQUEST, body: '{"body": 1, "body": 2}' } })),
      await poll('not-an-id'),
      await v.app.inject({ method: 'GET', url: '/v1/proposals/prp_AAAAAAAAAAAAAAAAAAAAAA?wait=31', headers: { authorization: `Bearer ${key}` } }),
      await deviceCall(alice, 'GET', '/v1/proposals?state=approved'),
      await decideOn(alice, 'prp_AAAAAAAAAAAAAAAAAAAAAA', { approve: '' }),
      await decideOn(alice, 'prp_AAAAAAAAAAAAAAAAAAAAAA', { approve: 'x', reject: { reason: 'y' } }),
    ];
    for (const res of cases) {
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'payload_invalid', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    }
    expect((await decideOn(alice, 'prp_AAAAAAAAAAAAAAAAAAAAAA', { reject: { reason: 'gone' } })).statusCode).toBe(404);
  });
});
