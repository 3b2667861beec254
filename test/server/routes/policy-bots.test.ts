// Policy bots at the verifier (DESIGN.md, "Policy bots, quorum, batch review"): a proposal or a held
// action a bot's rule covers is approved at once with a token the bot signs; outside its rule, after
// its expiry, once the rule is revoked, or under a kill switch it is not; receipts name the bot; every
// bot approval is a decision record with its rule; the bot's key is published and rotatable.
// SQLite and PostgreSQL. Node only (tests).
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalPlan, BotApprovalList, ProposalCreated, ProposalStatus, ReceiptClaims, mintApprovalToken, mintDeviceProof, newTraceId } from '../../../lib/protocol';
import type { ActionRequest } from '../../../lib/protocol';
import { defaultPolicyText } from '../../../server/policy/engine';
import { DATABASES, PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';

const AGENT = 'agent:forum-helper';
const SITE = 'http://127.0.0.1:8080';
const RULE = 'small-replies-in-topic-7';
const BOT_RULE = `
@id("${RULE}")
@expires("2030-01-01T00:00:00Z")
permit (principal == Bot::"small-replies", action == Action::"approve", resource is Agent)
when { context.scope == "forum.post" && context.chars < 500 && context.path like "/api/topics/7/*" };
`;

function reply(text: string, topic = 7): ActionRequest {
  return { method: 'POST', url: `${SITE}/api/topics/${topic}/replies`, contentType: 'application/json', body: JSON.stringify({ body: text, author_kind: 'assistant' }) };
}

describe.each(DATABASES)('policy bots (%s)', (kind) => {
  let v: TestVerifier;
  let alice: Device;
  let bob: Device;
  let key: string;

  beforeAll(async () => {
    v = await startVerifier(kind, { proposalSweepMs: 3_600_000 });
    alice = await v.enroll('alice');
    bob = await v.enroll('bob');
    await v.registerAgent(AGENT, 'alice', ['forum.post'], [SITE]);
    ({ key } = (await v.admin('POST', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys`)).json() as { key: string });
  });
  afterAll(() => v.close());
  beforeEach(async () => {
    v.clock.now += 61_000;
    await setPolicy(defaultPolicyText() + BOT_RULE);
  });

  async function setPolicy(text: string) {
    const res = await v.admin('PUT', '/v1/admin/policy', { text });
    expect(res.statusCode, res.body).toBe(200);
  }
  const propose = (request: ActionRequest) =>
    v.app.inject({ method: 'POST', url: '/v1/proposals', headers: { authorization: `Bearer ${key}` }, payload: { request, scope: 'forum.post', summary: 'A reply', contentField: '/body' } });
  const poll = (id: string) => v.app.inject({ method: 'GET', url: `/v1/proposals/${id}`, headers: { authorization: `Bearer ${key}` } });
  const verifyToken = (token: string, request: ActionRequest) => v.verifyExact({ token, request, scope: 'forum.post', contentField: '/body' });
  async function deviceCall(device: Device, method: 'GET' | 'POST', url: string, payload?: unknown) {
    const authorization = await mintDeviceProof({ privateKey: device.privateKey, kid: device.kid, method, url: `${PUBLIC_URL}${url}`, now: v.seconds() });
    return v.app.inject({ method, url, headers: { authorization }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  }
  const plan = (device: Device, request: ActionRequest, traceId = newTraceId(), scope = 'forum.post') => deviceCall(device, 'POST', '/v1/approval-plan', { request, scope, agent: AGENT, traceId, contentField: '/body' });
  const codesOf = async (traceId: string) => ((await v.admin('GET', `/v1/admin/events?trace=${traceId}`)).json().decisions as { code: string; approver: string | null; rule?: string }[]);

  async function botToken(request: ActionRequest): Promise<{ token: string; traceId: string }> {
    const res = await propose(request);
    expect(res.statusCode, res.body).toBe(201);
    const created = ProposalCreated.parse(res.json());
    expect(created.state).toBe('approved');
    const status = ProposalStatus.parse((await poll(created.id)).json());
    return { token: status.token!, traceId: created.traceId };
  }

  it('the default policy approves nothing automatically: the proposal waits for a person', async () => {
    await setPolicy(defaultPolicyText());
    const res = await propose(reply('short'));
    expect(ProposalCreated.parse(res.json()).state).toBe('pending');
  });

  it('a proposal inside the rule is approved at once by the bot; the tool consumes its token and the receipt names the bot; every step is recorded with the rule', async () => {
    const request = reply('Thanks, fixed in 2.3.');
    const { token, traceId } = await botToken(request);
    const claims = decodeJwt(token);
    expect(claims.iss).toBe('policy-bot:small-replies');
    expect(claims.sub).toBe('policy-bot:small-replies');
    expect(claims.agt).toBe(AGENT);
    const verified = await verifyToken(token, request);
    expect(verified.statusCode, verified.body).toBe(200);
    expect(ReceiptClaims.parse(decodeJwt(verified.json().receipt)).apv).toBe('policy-bot:small-replies');
    const records = await codesOf(traceId);
    expect(records.map((r) => r.code)).toEqual(['proposed', 'approved', 'handed_out', 'allow']);
    expect(records[1]).toMatchObject({ approver: 'policy-bot:small-replies', rule: RULE });
    expect((await verifyToken(token, request)).json().error.code).toBe('replayed');
  });

  it('outside the rule (500 characters or more, another topic) the bot does not approve: a person must', async () => {
    expect(ProposalCreated.parse((await propose(reply('x'.repeat(500)))).json()).state).toBe('pending');
    v.clock.now += 61_000;
    expect(ProposalCreated.parse((await propose(reply('short', 8))).json()).state).toBe('pending');
    // Just under the limit, counted in characters (code points), not bytes.
    v.clock.now += 61_000;
    expect(ProposalCreated.parse((await propose(reply('é'.repeat(499)))).json()).state).toBe('approved');
  });

  it('a rule counts until its expiry, never after', async () => {
    const saved = v.clock.now;
    v.clock.now = Date.parse('2030-01-01T00:00:00Z');
    try {
      expect(ProposalCreated.parse((await propose(reply('after the expiry'))).json()).state).toBe('pending');
    } finally {
      v.clock.now = saved + 61_000;
    }
  });

  it('revoking a rule counts from the next request: a new proposal waits, and a bot token issued before is refused by the tool', async () => {
    const request = reply('issued before the revocation');
    const { token } = await botToken(request);
    await setPolicy(defaultPolicyText());
    expect((await verifyToken(token, request)).json().error.code).toBe('approver_not_authorized');
    v.clock.now += 61_000;
    expect(ProposalCreated.parse((await propose(reply('after the revocation'))).json()).state).toBe('pending');
  });

  it('attack: kill switches stop bots as they stop people — a kill on the bot, a global kill, and one engaged after the bot approved', async () => {
    expect((await v.admin('POST', '/v1/admin/kill', { scope: 'user', target: 'policy-bot:small-replies' })).statusCode).toBe(200);
    // The bot may not: alice still may, so the proposal waits for her.
    expect(ProposalCreated.parse((await propose(reply('bot killed'))).json()).state).toBe('pending');
    expect((await v.admin('DELETE', '/v1/admin/kill', { scope: 'user', target: 'policy-bot:small-replies' })).statusCode).toBe(200);

    v.clock.now += 61_000;
    expect((await v.admin('POST', '/v1/admin/kill', { scope: 'global' })).statusCode).toBe(200);
    expect((await propose(reply('everything killed'))).json().error.code).toBe('kill_switch_engaged');
    expect(ApprovalPlan.parse((await plan(alice, reply('held, killed'))).json())).toEqual({ quorum: 1, presence: 'none' });
    expect((await v.admin('DELETE', '/v1/admin/kill', { scope: 'global' })).statusCode).toBe(200);

    v.clock.now += 61_000;
    const request = reply('approved, then killed');
    const { token } = await botToken(request);
    v.clock.now += 1000;
    expect((await v.admin('POST', '/v1/admin/kill', { scope: 'agent', target: AGENT })).statusCode).toBe(200);
    expect((await v.admin('DELETE', '/v1/admin/kill', { scope: 'agent', target: AGENT })).statusCode).toBe(200);
    v.clock.now += 1000;
    expect((await verifyToken(token, request)).json().error.code).toBe('kill_switch_engaged');
  });

  it('a held action the rule covers: the approval plan carries the bot\'s token for exactly that request and trace; it is listed for alice among today\'s bot approvals, not for bob', async () => {
    const request = reply('held in the page');
    const traceId = newTraceId();
    const res = await plan(alice, request, traceId);
    expect(res.statusCode, res.body).toBe(200);
    const answer = ApprovalPlan.parse(res.json());
    expect(answer).toMatchObject({ quorum: 1, bot: { bot: 'small-replies', rule: RULE } });
    const claims = decodeJwt(answer.bot!.token);
    expect(claims).toMatchObject({ sub: 'policy-bot:small-replies', trc: traceId, agt: AGENT });
    // The tool sees alice's session with an assistant marker: a bot's token is accepted there.
    const verified = await v.verifyExact({ token: answer.bot!.token, request, scope: 'forum.post', contentField: '/body', principal: { kind: 'user', id: 'alice' }, assisted: true });
    expect(verified.statusCode, verified.body).toBe(200);
    const mine = BotApprovalList.parse((await deviceCall(alice, 'GET', '/v1/policy-bot/approvals')).json());
    expect(mine.approvals.find((a) => a.traceId === traceId)).toMatchObject({ bot: 'small-replies', rule: RULE, agent: AGENT, scope: 'forum.post', site: SITE });
    const bobs = BotApprovalList.parse((await deviceCall(bob, 'GET', '/v1/policy-bot/approvals')).json());
    expect(bobs.approvals.find((a) => a.traceId === traceId)).toBeUndefined();
    // Outside the rule the plan carries no token.
    expect(ApprovalPlan.parse((await plan(alice, reply('y'.repeat(600)))).json())).toEqual({ quorum: 1, presence: 'none' });
  });

  it('attack: a runaway page asks for bot approvals in a loop — past 30 a minute the actions wait for a person', async () => {
    v.clock.now += 61_000;
    const plans = [];
    for (let i = 0; i < 32; i++) plans.push(ApprovalPlan.parse((await plan(bob, reply(`loop ${i}`))).json()));
    expect(plans.filter((p) => p.bot !== undefined)).toHaveLength(30);
    expect(plans.at(-1)).toEqual({ quorum: 1, presence: 'none' });
    v.clock.now += 61_000;
    expect(ApprovalPlan.parse((await plan(bob, reply('a minute later'))).json()).bot).toBeDefined();
  });

  it('the bot\'s key is published; rotating it revokes the old key, so a token it signed is refused, and new approvals use the new key', async () => {
    const request = reply('signed with the first key');
    const { token } = await botToken(request);
    const before = (await v.app.inject({ method: 'GET', url: '/v1/policy-bot/keys' })).json() as { keys: { kid: string; bot: string; revoked: boolean }[] };
    const oldKid = before.keys.find((k) => k.bot === 'small-replies' && !k.revoked)!.kid;
    const rotated = await v.admin('POST', '/v1/admin/policy-bots/small-replies/rotate');
    expect(rotated.statusCode, rotated.body).toBe(200);
    const after = (await v.app.inject({ method: 'GET', url: '/v1/policy-bot/keys' })).json() as { keys: { kid: string; revoked: boolean }[] };
    expect(after.keys.find((k) => k.kid === oldKid)!.revoked).toBe(true);
    // The old key no longer belongs to the bot's device: refused as no key of that device.
    expect(['key_unknown', 'key_revoked']).toContain((await verifyToken(token, request)).json().error.code);
    v.clock.now += 61_000;
    const fresh = await botToken(reply('signed with the second key'));
    expect(decodeJwt(fresh.token).iss).toBe('policy-bot:small-replies');
    expect(JSON.parse(Buffer.from(fresh.token.split('.')[0]!, 'base64url').toString()).kid).toBe(rotated.json().kid);
  });

  it('attack: a person signs as a bot — with their own key, or with a device enrolled under the bot\'s name', async () => {
    const request = reply('forged bot approval');
    const { token } = await mintApprovalToken({ privateKey: alice.privateKey, kid: alice.kid, deviceId: alice.deviceId, userId: 'policy-bot:small-replies', request, agent: AGENT, scope: 'forum.post', traceId: newTraceId(), now: v.seconds() });
    expect((await verifyToken(token, request)).statusCode).toBe(403);
    const { token: asBotDevice } = await mintApprovalToken({ privateKey: alice.privateKey, kid: alice.kid, deviceId: 'policy-bot:small-replies', userId: 'policy-bot:small-replies', request, agent: AGENT, scope: 'forum.post', traceId: newTraceId(), now: v.seconds() });
    expect((await verifyToken(asBotDevice, request)).statusCode).toBe(403);
    const code = await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'policy-bot:small-replies' });
    expect(code.statusCode).toBe(400);
    expect(code.json().error.code).toBe('payload_invalid');
  });
});
