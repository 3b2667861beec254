// Agent proposals with more than one person who may approve (a Cedar policy that adds a reviewer):
// an approver with 20 pending proposals is passed over for the next while another remains, who may
// approve is fixed when a proposal is made, and two approvers deciding at once have one winner.
// SQLite and PostgreSQL. Node only (tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProposalCreated, ProposalList, ProposalStatus, mintDeviceProof } from '../../../lib/protocol';
import type { ProposalCreateRequest } from '../../../lib/protocol';
import { DATABASES, FORUM_REQUEST, PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';

const SITE = 'http://127.0.0.1:8080';
const AGENTS = ['agent:batch-0', 'agent:batch-1', 'agent:batch-2', 'agent:batch-3'];
/** bob reviews every agent's actions, besides each owner. */
const REVIEWER = '\n@id("bob-reviews")\npermit (principal == User::"bob", action == Action::"approve", resource is Agent);\n';

function proposalOf(text: string): ProposalCreateRequest {
  return { request: { ...FORUM_REQUEST, body: JSON.stringify({ body: text, author_kind: 'assistant' }) }, scope: 'forum.post', summary: `Reply: ${text}`, contentField: '/body' };
}

describe.each(DATABASES)('agent proposals with a reviewer besides the owner (%s)', (kind) => {
  let v: TestVerifier;
  let alice: Device;
  let bob: Device;
  let carol: Device;
  const keys: string[] = [];

  beforeAll(async () => {
    v = await startVerifier(kind);
    alice = await v.enroll('alice');
    bob = await v.enroll('bob');
    carol = await v.enroll('carol');
    for (const agent of AGENTS) {
      await v.registerAgent(agent, 'alice', ['forum.post'], [SITE]);
      keys.push(((await v.admin('POST', `/v1/admin/agents/${encodeURIComponent(agent)}/keys`)).json() as { key: string }).key);
    }
  });
  afterAll(() => v.close());

  const propose = (body: ProposalCreateRequest, key: string) => v.app.inject({ method: 'POST', url: '/v1/proposals', headers: { authorization: `Bearer ${key}` }, payload: body });
  async function deviceCall(device: Device, method: 'GET' | 'POST', url: string, payload?: unknown) {
    const authorization = await mintDeviceProof({ privateKey: device.privateKey, kid: device.kid, method, url: `${PUBLIC_URL}${url}`, now: v.seconds() });
    return v.app.inject({ method, url, headers: { authorization }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  }
  const listed = async (device: Device) => ProposalList.parse((await deviceCall(device, 'GET', '/v1/proposals?state=pending')).json()).proposals.map((p) => p.id);
  const approval = async (device: Device, p: ProposalCreated, body: ProposalCreateRequest, agent: string) =>
    (await v.mint(device, { request: body.request, agent, scope: body.scope, traceId: p.traceId })).token;

  it('rate limits: alice with 20 pending is not offered the 21st, bob is; who may approve stays as it was when it was made', async () => {
    // 20 for alice alone (the default policy: only the owner).
    for (let i = 0; i < 20; i++) expect((await propose(proposalOf(`batch ${i}`), keys[i % 4]!)).statusCode).toBe(201);
    expect(await listed(alice)).toHaveLength(20);
    expect(await listed(bob)).toEqual([]);

    const policy = (await v.admin('GET', '/v1/admin/policy')).json() as { text: string };
    expect((await v.admin('PUT', '/v1/admin/policy', { text: policy.text + REVIEWER })).statusCode).toBe(200);
    v.clock.now += 61_000;
    const body = proposalOf('the 21st');
    const res = await propose(body, keys[0]!);
    expect(res.statusCode, res.body).toBe(201);
    const p = ProposalCreated.parse(res.json());
    expect(await listed(bob)).toEqual([p.id]);
    expect(await listed(alice)).not.toContain(p.id);
    expect(await listed(carol)).toEqual([]);
    // alice may approve her agent by policy, but she was not offered this one.
    const hers = await deviceCall(alice, 'POST', `/v1/proposals/${p.id}/decision`, { approve: await approval(alice, p, body, AGENTS[0]!) });
    expect([hers.statusCode, hers.json().error?.code]).toEqual([403, 'approver_not_authorized']);
    const his = await deviceCall(bob, 'POST', `/v1/proposals/${p.id}/decision`, { approve: await approval(bob, p, body, AGENTS[0]!) });
    expect([his.statusCode, his.json()]).toEqual([200, { state: 'approved' }]);
  });

  it('attack: the owner and the reviewer decide at once — exactly one wins, the other is 409 already_decided', async () => {
    // Past every earlier proposal's expiry, so alice is under her limit again.
    v.clock.now += 10 * 60_000;
    for (let round = 0; round < 3; round++) {
      const body = proposalOf(`raced ${round}`);
      const p = ProposalCreated.parse((await propose(body, keys[1]!)).json());
      expect(await listed(alice)).toContain(p.id);
      expect(await listed(bob)).toContain(p.id);
      const [a, b] = await Promise.all([
        deviceCall(alice, 'POST', `/v1/proposals/${p.id}/decision`, { approve: await approval(alice, p, body, AGENTS[1]!) }),
        deviceCall(bob, 'POST', `/v1/proposals/${p.id}/decision`, { reject: { reason: 'not this one' } }),
      ]);
      expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
      const loser = a.statusCode === 409 ? a : b;
      expect(loser.json().error).toMatchObject({ code: 'already_decided', traceId: p.traceId });
      const state = (a.statusCode === 200 ? a : b).json().state as string;
      const status = ProposalStatus.parse((await v.app.inject({ method: 'GET', url: `/v1/proposals/${p.id}`, headers: { authorization: `Bearer ${keys[1]!}` } })).json());
      expect(status.state).toBe(state);
      const codes = (await v.admin('GET', `/v1/admin/events?trace=${p.traceId}`)).json().decisions.map((d: { code: string }) => d.code) as string[];
      expect(codes.filter((c) => c === 'approved' || c === 'rejected')).toEqual([state]);
      expect(codes).toContain('already_decided');
    }
  });
});
