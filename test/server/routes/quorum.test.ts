// The two-person rule at the verifier (DESIGN.md, "Policy bots, quorum, batch review"): a scope policy
// requires two approvers for is allowed only with two distinct people's tokens over one action, every
// jti consumed in one transaction or none; and the way there — a held action published by its first
// approver, seen and approved by the second, the tokens handed to the publisher; an agent proposal
// approved once two people did. SQLite and PostgreSQL. Node only (tests).
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProposalCreated, ProposalDecided, ProposalList, ProposalStatus, ReceiptClaims, mintDeviceProof, newTraceId } from '../../../lib/protocol';
import type { ActionRequest } from '../../../lib/protocol';
import { defaultPolicyText } from '../../../server/policy/engine';
import { DATABASES, PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';

const AGENT = 'agent:access-helper';
const ADMIN = 'http://127.0.0.1:8081';
const SCOPE = 'admin.acl.write';
const POLICY = `${defaultPolicyText()}
@id("two-people-for-acl")
@approvers("2")
permit (principal, action == Action::"quorum", resource)
when { context.scope == "admin.acl.write" };

@id("reviewers-approve-acl-changes")
permit (principal is User, action == Action::"approve", resource is Agent)
when { ["bob", "carol"].contains(context.sub) && context.scope == "admin.acl.write" };
`;

let n = 0;
function aclChange(): ActionRequest {
  return { method: 'PUT', url: `${ADMIN}/api/acl/payroll`, contentType: 'application/json', body: JSON.stringify({ visibility: 'all-employees', n: ++n }) };
}

describe.each(DATABASES)('the two-person rule (%s)', (kind) => {
  let v: TestVerifier;
  let alice: Device;
  let aliceLaptop2: Device;
  let bob: Device;
  let carol: Device;
  let dave: Device;
  let key: string;

  beforeAll(async () => {
    v = await startVerifier(kind, { proposalSweepMs: 3_600_000 });
    [alice, aliceLaptop2, bob, carol, dave] = [await v.enroll('alice'), await v.enroll('alice'), await v.enroll('bob'), await v.enroll('carol'), await v.enroll('dave')];
    await v.registerAgent(AGENT, 'alice', [SCOPE], [ADMIN]);
    ({ key } = (await v.admin('POST', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys`)).json() as { key: string });
    expect((await v.admin('PUT', '/v1/admin/policy', { text: POLICY })).statusCode).toBe(200);
  });
  afterAll(() => v.close());
  beforeEach(() => {
    v.clock.now += 61_000;
  });

  const mint = async (device: Device, request: ActionRequest, traceId: string) => (await v.mint(device, { request, agent: AGENT, scope: SCOPE, traceId })).token;
  const verifyAll = (tokens: string[], request: ActionRequest, extra: object = {}) =>
    v.verifyExact({ ...(tokens.length === 1 ? { token: tokens[0] } : { tokens }), request, scope: SCOPE, ...extra });
  async function deviceCall(device: Device, method: 'GET' | 'POST', url: string, payload?: unknown) {
    const authorization = await mintDeviceProof({ privateKey: device.privateKey, kid: device.kid, method, url: `${PUBLIC_URL}${url}`, now: v.seconds() });
    return v.app.inject({ method, url, headers: { authorization }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  }
  const decisions = async (traceId: string) => ((await v.admin('GET', `/v1/admin/events?trace=${traceId}`)).json().decisions as { code: string; approver: string | null }[]);

  describe('verify with several approvals', () => {
    it('two distinct people\'s tokens over one action are allowed; the receipt names both; each token is then spent', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const [a, b] = [await mint(alice, request, trc), await mint(bob, request, trc)];
      const res = await verifyAll([a, b], request);
      expect(res.statusCode, res.body).toBe(200);
      const receipt = ReceiptClaims.parse(decodeJwt(res.json().receipt));
      expect(receipt).toMatchObject({ apv: 'alice', apvs: ['alice', 'bob'], sub: AGENT, trc });
      expect((await verifyAll([a, b], request)).json().error.code).toBe('replayed');
      expect((await verifyAll([b, a], request)).json().error.code).toBe('replayed');
      expect((await decisions(trc)).filter((d) => d.code === 'allow')).toHaveLength(1);
    });

    it('one token where policy requires two is 403 quorum_not_met and consumes nothing: the pair still works after', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const [a, b] = [await mint(alice, request, trc), await mint(bob, request, trc)];
      const alone = await verifyAll([a], request);
      expect(alone.statusCode).toBe(403);
      expect(alone.json().error).toMatchObject({ code: 'quorum_not_met', traceId: trc });
      expect((await verifyAll([a, b], request)).statusCode).toBe(200);
    });

    it('attack: a replay of one of two tokens — refused, and the fresh token beside it is not consumed', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const [a, b, c] = [await mint(alice, request, trc), await mint(bob, request, trc), await mint(carol, request, trc)];
      expect((await verifyAll([a, b], request)).statusCode).toBe(200);
      expect((await verifyAll([a, c], request)).json().error.code).toBe('replayed');
      // carol's token was not spent by the refused request: with a fresh one of alice's it passes.
      expect((await verifyAll([await mint(alice, request, trc), c], request)).statusCode).toBe(200);
    });

    it('attack: the same person twice (two of alice\'s devices), or the same token twice, counts once', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const [a1, a2] = [await mint(alice, request, trc), await mint(aliceLaptop2, request, trc)];
      expect((await verifyAll([a1, a2], request)).json().error.code).toBe('quorum_not_met');
      expect((await verifyAll([a1, a1], request)).json().error.code).toBe('quorum_not_met');
      expect((await verifyAll([a1, await mint(bob, request, trc)], request)).statusCode).toBe(200);
    });

    it('attack: mixed digests — a token for another request beside a good one is refused and nothing is consumed', async () => {
      const request = aclChange();
      const other = aclChange();
      const trc = newTraceId();
      const [a, b] = [await mint(alice, request, trc), await mint(bob, other, trc)];
      expect((await verifyAll([a, b], request)).json().error.code).toBe('action_mismatch');
      expect((await verifyAll([a, await mint(bob, request, trc)], request)).statusCode).toBe(200);
    });

    it('attack: approvals of two different actions (trace ids) of the same request do not add up', async () => {
      const request = aclChange();
      const [a, b] = [await mint(alice, request, newTraceId()), await mint(bob, request, newTraceId())];
      expect((await verifyAll([a, b], request)).json().error.code).toBe('quorum_not_met');
    });

    it('attack: someone policy does not let approve (dave) cannot make up the second approval', async () => {
      const request = aclChange();
      const trc = newTraceId();
      expect((await verifyAll([await mint(alice, request, trc), await mint(dave, request, trc)], request)).json().error.code).toBe('approver_not_authorized');
    });

    it('attack: two approvals arriving together — the same pair and overlapping pairs sent at once: exactly one is allowed', async () => {
      for (let round = 0; round < 3; round++) {
        const request = aclChange();
        const trc = newTraceId();
        const [a, b, c] = [await mint(alice, request, trc), await mint(bob, request, trc), await mint(carol, request, trc)];
        const answers = await Promise.all([verifyAll([a, b], request), verifyAll([a, b], request), verifyAll([a, c], request), verifyAll([c, b], request)]);
        expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(1);
        for (const r of answers.filter((x) => x.statusCode !== 200)) expect(r.json().error.code).toBe('replayed');
        expect((await decisions(trc)).filter((d) => d.code === 'allow')).toHaveLength(1);
      }
    });

    it('in a person\'s session, one of the approvals must be that person\'s (an assistant acted for them)', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const inSession = { principal: { kind: 'user', id: 'alice' }, assisted: true };
      expect((await verifyAll([await mint(bob, request, trc), await mint(carol, request, trc)], request, inSession)).json().error.code).toBe('action_mismatch');
      expect((await verifyAll([await mint(alice, request, trc), await mint(bob, request, trc)], request, inSession)).statusCode).toBe(200);
    });

    it('more than five tokens, or token and tokens together, is a bad request', async () => {
      const request = aclChange();
      const six = await Promise.all(Array.from({ length: 6 }, () => mint(bob, request, newTraceId())));
      expect((await verifyAll(six, request)).json().error.code).toBe('payload_invalid');
      expect((await v.verifyExact({ token: six[0], tokens: six.slice(0, 2), request, scope: SCOPE })).json().error.code).toBe('payload_invalid');
    });
  });

  describe('a held action published for the second approver', () => {
    const publish = (device: Device, request: ActionRequest, token: string) =>
      deviceCall(device, 'POST', '/v1/proposals/held', { request, scope: SCOPE, summary: 'Make payroll visible to all employees', approve: token });
    const status = (device: Device, id: string) => deviceCall(device, 'GET', `/v1/proposals/${id}`);

    it('alice approves and publishes; bob sees her approval and approves; alice\'s device gets both tokens and the tool allows them', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const res = await publish(alice, request, await mint(alice, request, trc));
      expect(res.statusCode, res.body).toBe(201);
      const created = ProposalCreated.parse(res.json());
      expect(created).toMatchObject({ state: 'pending', quorum: 2, traceId: trc });
      expect(ProposalStatus.parse((await status(alice, created.id)).json()).state).toBe('pending');
      // Alice already approved: not in her list. Bob and carol see it, with her approval.
      expect(ProposalList.parse((await deviceCall(alice, 'GET', '/v1/proposals?state=pending')).json()).proposals.map((p) => p.id)).not.toContain(created.id);
      const listed = ProposalList.parse((await deviceCall(bob, 'GET', '/v1/proposals?state=pending')).json()).proposals.find((p) => p.id === created.id)!;
      expect(listed).toMatchObject({ agent: AGENT, scope: SCOPE, quorum: 2, publishedBy: 'alice', request });
      expect(listed.approvals.map((a) => a.approver)).toEqual(['alice']);
      const decided = await deviceCall(bob, 'POST', `/v1/proposals/${created.id}/decision`, { approve: await mint(bob, request, trc) });
      expect(ProposalDecided.parse(decided.json()).state).toBe('approved');
      const done = ProposalStatus.parse((await status(alice, created.id)).json());
      expect(done).toMatchObject({ state: 'approved', approvers: ['alice', 'bob'] });
      const allowed = await verifyAll(done.tokens!, request, { principal: { kind: 'user', id: 'alice' }, assisted: true });
      expect(allowed.statusCode, allowed.body).toBe(200);
      expect((await decisions(trc)).map((d) => d.code)).toEqual(['proposed', 'approval_counted', 'approved', 'handed_out', 'allow']);
    });

    it('bob rejects: alice\'s device learns it with the reason', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const created = ProposalCreated.parse((await publish(alice, request, await mint(alice, request, trc))).json());
      expect((await deviceCall(bob, 'POST', `/v1/proposals/${created.id}/decision`, { reject: { reason: 'Payroll stays HR-only.' } })).statusCode).toBe(200);
      expect(ProposalStatus.parse((await status(alice, created.id)).json())).toEqual({ id: created.id, state: 'rejected', reason: 'Payroll stays HR-only.' });
    });

    it('nobody approves in time: it expires with alice\'s token', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const created = ProposalCreated.parse((await publish(alice, request, await mint(alice, request, trc))).json());
      expect(created.expiresAt).toBeLessThanOrEqual(v.seconds() + 120);
      v.clock.now += 121_000;
      expect(ProposalStatus.parse((await status(alice, created.id)).json()).state).toBe('expired');
      expect((await decisions(trc)).map((d) => d.code)).toContain('expired');
    });

    it('attack: alice approves twice — her own publication is not hers to decide, and publishing again answers the same proposal', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const token = await mint(alice, request, trc);
      const created = ProposalCreated.parse((await publish(alice, request, token)).json());
      const again = await deviceCall(alice, 'POST', `/v1/proposals/${created.id}/decision`, { approve: await mint(alice, request, trc) });
      expect(again.json().error.code).toBe('approver_not_authorized');
      const second = await deviceCall(aliceLaptop2, 'POST', `/v1/proposals/${created.id}/decision`, { approve: await mint(aliceLaptop2, request, trc) });
      expect(second.statusCode).toBe(403);
      expect(ProposalCreated.parse((await publish(alice, request, token)).json()).id).toBe(created.id);
      expect(ProposalStatus.parse((await status(alice, created.id)).json()).state).toBe('pending');
    });

    it('attack: another device, or the agent\'s key, asks for the published tokens — as if it did not exist', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const created = ProposalCreated.parse((await publish(alice, request, await mint(alice, request, trc))).json());
      await deviceCall(bob, 'POST', `/v1/proposals/${created.id}/decision`, { approve: await mint(bob, request, trc) });
      expect((await status(bob, created.id)).statusCode).toBe(404);
      expect((await status(aliceLaptop2, created.id)).statusCode).toBe(404);
      expect((await v.app.inject({ method: 'GET', url: `/v1/proposals/${created.id}`, headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(404);
    });

    it('attack: a publication carrying another device\'s token, or a token for another request, is refused', async () => {
      const request = aclChange();
      const trc = newTraceId();
      expect((await publish(alice, request, await mint(bob, request, trc))).json().error.code).toBe('action_mismatch');
      expect((await publish(alice, request, await mint(alice, aclChange(), trc))).json().error.code).toBe('action_mismatch');
    });

    it('attack: a publication, or a second approval, with a token the tool already consumed is refused as replayed', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const [a, b] = [await mint(alice, request, trc), await mint(bob, request, trc)];
      expect((await verifyAll([a, b], request)).statusCode).toBe(200);
      expect((await publish(alice, request, a)).json().error.code).toBe('replayed');
      const created = ProposalCreated.parse((await publish(alice, request, await mint(alice, request, trc))).json());
      expect((await deviceCall(bob, 'POST', `/v1/proposals/${created.id}/decision`, { approve: b })).json().error.code).toBe('replayed');
    });

    it('attack: bob approves with a token for another trace, another agent or another request — refused, still pending', async () => {
      const request = aclChange();
      const trc = newTraceId();
      const created = ProposalCreated.parse((await publish(alice, request, await mint(alice, request, trc))).json());
      const decideWith = async (token: string) => (await deviceCall(bob, 'POST', `/v1/proposals/${created.id}/decision`, { approve: token })).json().error.code;
      expect(await decideWith(await mint(bob, request, newTraceId()))).toBe('action_mismatch');
      expect(await decideWith(await mint(bob, aclChange(), trc))).toBe('action_mismatch');
      expect(ProposalStatus.parse((await status(alice, created.id)).json()).state).toBe('pending');
    });
  });

  describe('an agent proposal under the two-person rule', () => {
    it('the first approval is counted, the second approves it; the agent gets both tokens and the tool allows them', async () => {
      const request = aclChange();
      const res = await v.app.inject({ method: 'POST', url: '/v1/proposals', headers: { authorization: `Bearer ${key}` }, payload: { request, scope: SCOPE, summary: 'Open payroll to everyone' } });
      const created = ProposalCreated.parse(res.json());
      expect(created.quorum).toBe(2);
      const decide = async (device: Device) => ProposalDecided.parse((await deviceCall(device, 'POST', `/v1/proposals/${created.id}/decision`, { approve: await mint(device, request, created.traceId) })).json()).state;
      expect(await decide(alice)).toBe('pending');
      const early = ProposalStatus.parse((await v.app.inject({ method: 'GET', url: `/v1/proposals/${created.id}`, headers: { authorization: `Bearer ${key}` } })).json());
      expect(early).toEqual({ id: created.id, state: 'pending' });
      expect(await decide(carol)).toBe('approved');
      const done = ProposalStatus.parse((await v.app.inject({ method: 'GET', url: `/v1/proposals/${created.id}`, headers: { authorization: `Bearer ${key}` } })).json());
      expect(done.tokens).toHaveLength(2);
      expect(done.approvers).toEqual(['alice', 'carol']);
      expect((await verifyAll(done.tokens!, request, { principal: { kind: 'agent', id: AGENT } })).statusCode).toBe(200);
    });

    it('an action that fewer people than the quorum may approve is refused when proposed', async () => {
      await v.registerAgent('agent:lonely', 'alice', ['forum.post'], ['http://127.0.0.1:8080']);
      const text = `${POLICY}\n@id("two-for-posts") @approvers("3") permit (principal, action == Action::"quorum", resource) when { context.scope == "forum.post" };`;
      expect((await v.admin('PUT', '/v1/admin/policy', { text })).statusCode).toBe(200);
      try {
        const { key: lonelyKey } = (await v.admin('POST', '/v1/admin/agents/agent:lonely/keys')).json() as { key: string };
        const body = { request: { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/7/replies', contentType: 'application/json', body: '{"body":"hi"}' }, scope: 'forum.post', summary: 'hi' };
        const res = await v.app.inject({ method: 'POST', url: '/v1/proposals', headers: { authorization: `Bearer ${lonelyKey}` }, payload: body });
        expect(res.statusCode).toBe(403);
        expect(res.json().error).toMatchObject({ code: 'approver_not_authorized' });
        expect(res.json().error.message).toMatch(/3 distinct approvers/);
      } finally {
        expect((await v.admin('PUT', '/v1/admin/policy', { text: POLICY })).statusCode).toBe(200);
      }
    });
  });
});
