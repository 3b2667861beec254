// In-page holds under policy, in the background against a real verifier (SQLite): the plan asked when
// an action is held (its quorum noted; a policy bot's approval taken at once, the bot's token checked
// against the row), the owner's approval of a two-person action awaiting the second, published with
// her token, and the verifier's answer moving it — approved with every token (which the verifier then
// allows together), rejected with the other approver's reason; and the pure reading of each answer.
import 'fake-indexeddb/auto';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintDeviceProof, policyBotId } from '@/lib/protocol';
import type { ActionRequest } from '@/lib/protocol';
import { approveAction } from '@/lib/extension/approvals';
import { applyPlan, botTokenProblem, planOutcome } from '@/lib/extension/bot-approvals';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import type { PendingActionRow } from '@/lib/extension/db';
import { deviceKey } from '@/lib/extension/device-key';
import { enroll } from '@/lib/extension/enrollment';
import { proposeAction } from '@/lib/extension/held-actions';
import { killState } from '@/lib/extension/kill-switch';
import { listLog } from '@/lib/extension/log';
import { awaitingMove, checkAwaiting, publishAwaiting } from '@/lib/extension/quorum-holds';
import { askPlan } from '@/lib/extension/approval-plan';
import { presenceChallengeFor } from '@/lib/extension/presence-handlers';
import { EXTENSION_ID } from '@/lib/extension-identity';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import type { ProposalInput } from '@/lib/messaging/contract';
import { TWO_PERSON_POLICY } from '../../helpers/policies';
import { demoAdapters } from '../../../demo/adapters';
import { injectFetch } from '../../helpers/inject-fetch';
import { PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';
import { registerCredential } from '../../helpers/webauthn';
import type { SoftAuthenticator } from '../../helpers/webauthn';

const CONSOLE = 'http://localhost:8081';
const FORUM = 'http://127.0.0.1:8080';
const ACL_BODY = '{"visibility":"all-employees","groups":["payroll-team"]}';
const aclChange: ProposalInput = {
  kind: 'fetch',
  request: { method: 'PUT', url: `${CONSOLE}/api/datasets/payroll-2026/access`, contentType: 'application/json', body: ACL_BODY },
  content: null,
  signals: ['assistant-marker'],
  agentHint: 'agent:access-helper',
  diff: { kind: 'fields', fields: [{ name: 'visibility', before: 'team-only', after: 'all-employees' }, { name: 'groups', before: ['payroll-team'], after: ['payroll-team'] }] },
};
const post = (text: string): ProposalInput => ({
  kind: 'fetch',
  request: { method: 'POST', url: `${FORUM}/api/topics/1/replies`, contentType: 'application/json', body: JSON.stringify({ body: text, author_kind: 'assistant' }) },
  content: text,
  signals: ['assistant-marker'],
  agentHint: 'agent:forum-helper',
  diff: { kind: 'text', before: null, after: text },
});

const POLICY = `${TWO_PERSON_POLICY}
@id("short-posts")
@expires("2099-01-01T00:00:00Z")
permit (principal == Bot::"small-posts", action == Action::"approve", resource is Agent)
when { context.scope == "forum.post" && context.chars < 500 };
`;

const view = effectivePolicy({ protectedSites: [`${FORUM}/*`, `${CONSOLE}/*`], adapters: JSON.stringify(demoAdapters()), verifierUrl: PUBLIC_URL }, {});

let v: TestVerifier;
let bob: Device;
let fetchFn: typeof fetch;
/** Alice's authenticator, registered with her device at enrollment (the two-person ACL change needs her presence too). */
let authenticator: SoftAuthenticator;
/** This browser's device proofs, on the verifier's clock. */
const authorize = async (method: string, url: string) => {
  const key = await deviceKey();
  return mintDeviceProof({ privateKey: key.privateKey, kid: key.kid, method, url, now: v.seconds() });
};
const deps = () => ({ verifier: PUBLIC_URL, authorize, fetchFn, now: () => v.clock.now });

beforeEach(async () => {
  v = await startVerifier('sqlite', { proposalSweepMs: 3_600_000 });
  await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], [FORUM]);
  await v.registerAgent('agent:access-helper', 'alice', ['admin.acl.write'], [CONSOLE]);
  expect((await v.admin('PUT', '/v1/admin/policy', { text: POLICY })).statusCode).toBe(200);
  bob = await v.enroll('bob');
  useDatabase(new CountersignDb(`cs-quorum-${crypto.randomUUID()}`));
  fetchFn = injectFetch(() => v.app);
  const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
  const registered = await registerCredential((await deviceKey()).publicJwk);
  authenticator = registered.authenticator;
  await enroll({ verifierUrl: PUBLIC_URL, code, label: 't', credential: registered.credential, rpId: EXTENSION_ID }, fetchFn);
});
afterEach(() => v.close());

const gates = () => ({
  policy: view.policy,
  kill: killState(view.policy, { url: PUBLIC_URL, reachable: true, engaged: false, entries: [], policyVersion: 'x', checkedAt: v.clock.now, error: null }),
  verifierReachable: true,
  failClosed: [],
  now: v.clock.now,
});
const hold = (input: ProposalInput, page: string) => proposeAction(input, { view, pageUrl: page, tabId: 3, userId: 'alice', now: v.clock.now });
const plan = (row: PendingActionRow) => askPlan(row, deps()).then((p) => p?.quorum ?? null);
async function bobCall(method: 'GET' | 'POST', path: string, payload?: unknown) {
  const authorization = await mintDeviceProof({ privateKey: bob.privateKey, kid: bob.kid, method, url: `${PUBLIC_URL}${path}`, now: v.seconds() });
  return v.app.inject({ method, url: path, headers: { authorization }, ...(payload !== undefined ? { payload: payload as object } : {}) });
}

/** Alice's two-person change: held (its quorum noted), approved by her (awaiting), published. */
async function awaitingPublished(): Promise<PendingActionRow> {
  const held = await hold(aclChange, `${CONSOLE}/datasets/payroll-2026`);
  expect(await applyPlan(held, deps())).toMatchObject({ state: 'held', quorum: 2, presence: 'uv' });
  // Her click in the popup: the presence challenge, her authenticator's assertion over it, then the approval.
  const asked = await presenceChallengeFor({ kind: 'held', id: held.id }, v.clock.now);
  if (asked.presence !== 'uv') throw new Error('the ACL change should ask for presence');
  const approved = await approveAction(held.id, gates(), plan, await authenticator.assert(asked.challenge));
  expect(approved).toMatchObject({ state: 'awaiting', quorum: 2, approvers: ['alice'] });
  const published = await publishAwaiting(approved, deps());
  expect(published?.published).toMatch(/^prp_/);
  return published!;
}

describe('the two-person rule for an in-page hold', () => {
  it('the owner\'s approval awaits the second (logged approved, for 1 more), and her second click signs nothing new', async () => {
    const row = await awaitingPublished();
    expect((await approveAction(row.id, gates(), plan)).token).toBe(row.token);
    const trail = await listLog({ trace: row.spec.trc });
    expect(trail.map((e) => e.type)).toEqual(['proposed', 'held', 'approved']);
    expect(trail[2]!.detail).toMatchObject({ quorum: 2, waiting: 'for 1 more approver' });
  });

  it('published: bob sees it with alice\'s approval; once he approves, it is approved with both tokens, which the verifier allows together', async () => {
    const row = await awaitingPublished();
    const listed = (await bobCall('GET', '/v1/proposals?state=pending')).json().proposals as Array<{ id: string; publishedBy?: string; quorum: number; approvals: Array<{ approver: string }>; traceId: string; request: ActionRequest }>;
    const mine = listed.find((p) => p.id === row.published)!;
    expect(mine).toMatchObject({ publishedBy: 'alice', quorum: 2, approvals: [{ approver: 'alice' }], traceId: row.spec.trc });
    // Not yet: still awaiting.
    expect(await checkAwaiting(row, 0, deps())).toBeNull();
    const { token } = await v.mint(bob, { request: mine.request, agent: 'agent:access-helper', scope: 'admin.acl.write', traceId: mine.traceId });
    expect((await bobCall('POST', `/v1/proposals/${row.published}/decision`, { approve: token })).json()).toEqual({ state: 'approved' });
    const moved = await checkAwaiting((await db().actions.get(row.id))!, 0, deps());
    expect(moved).toMatchObject({ state: 'approved', approvers: ['alice', 'bob'] });
    expect(moved!.tokens).toEqual([row.token, token]);
    expect((await listLog({ trace: row.spec.trc })).map((e) => e.type)).toEqual(['proposed', 'held', 'approved', 'approved']);
    const res = await v.verifyExact({ tokens: moved!.tokens, request: aclChange.request, scope: 'admin.acl.write' });
    expect(res.statusCode, res.body).toBe(200);
    expect(decodeJwt(res.json().receipt)).toMatchObject({ apv: 'alice', apvs: ['alice', 'bob'] });
  });

  it('bob rejects: it ends rejected with his reason', async () => {
    const row = await awaitingPublished();
    expect((await bobCall('POST', `/v1/proposals/${row.published}/decision`, { reject: { reason: 'Payroll stays team-only.' } })).statusCode).toBe(200);
    expect(await checkAwaiting(row, 0, deps())).toMatchObject({ state: 'rejected', reason: 'Rejected by another approver: Payroll stays team-only.' });
  });

  it('the verifier unreachable when it is published: still awaiting, unpublished, for the next round', async () => {
    const held = await hold(aclChange, `${CONSOLE}/datasets/payroll-2026`);
    const approved = await approveAction(held.id, gates(), plan);
    expect(await publishAwaiting(approved, { ...deps(), fetchFn: injectFetch(() => v.app, { down: true }) })).toBeNull();
    expect(await db().actions.get(held.id)).toMatchObject({ state: 'awaiting' });
    expect((await db().actions.get(held.id))!.published).toBeUndefined();
  });

  it('the plan unknown when held (the verifier did not answer): approving asks again, and it awaits the second', async () => {
    const held = await hold(aclChange, `${CONSOLE}/datasets/payroll-2026`);
    expect(await applyPlan(held, { ...deps(), fetchFn: injectFetch(() => v.app, { down: true }) })).toBeNull();
    expect((await db().actions.get(held.id))!.quorum).toBeUndefined();
    expect(await approveAction(held.id, gates(), plan)).toMatchObject({ state: 'awaiting', quorum: 2 });
  });
});

describe('policy bots for an in-page hold', () => {
  it('a short post a bot\'s rule covers is approved at once with the bot\'s token, logged naming the bot and the rule; the verifier allows it', async () => {
    const held = await hold(post('A short answer.'), `${FORUM}/t/1`);
    const row = await applyPlan(held, deps());
    expect(row).toMatchObject({ state: 'approved', bot: { bot: 'small-posts', rule: 'short-posts' }, approvers: [policyBotId('small-posts')] });
    const approved = (await listLog({ trace: held.spec.trc })).at(-1);
    expect(approved).toMatchObject({ type: 'approved', detail: { approver: 'policy-bot:small-posts', bot: 'small-posts', rule: 'short-posts' } });
    const res = await v.verifyExact({ token: row!.token, request: held.spec.request, scope: 'forum.post', contentField: 'body' });
    expect(res.statusCode, res.body).toBe(200);
    expect(decodeJwt(res.json().receipt)).toMatchObject({ apv: 'policy-bot:small-posts' });
  });

  it('a post of 500 characters or more is outside the rule: held for its owner, quorum 1', async () => {
    const held = await hold(post('x'.repeat(600)), `${FORUM}/t/1`);
    expect(await applyPlan(held, deps())).toMatchObject({ state: 'held', quorum: 1 });
  });

  it('attack: a bot token that binds another request is never used — the action stays held for its owner', async () => {
    const held = await hold(post('A short answer.'), `${FORUM}/t/1`);
    const other = await hold(post('Another short answer.'), `${FORUM}/t/1`);
    const real = await askPlan(other, deps());
    expect(real?.bot).toBeDefined();
    expect(botTokenProblem(held, real!.bot!)).toBe('the bot\'s token approves another request');
    expect(planOutcome(held, real!)).toEqual({ kind: 'quorum', quorum: 1, note: 'the bot\'s token approves another request' });
    expect(botTokenProblem(held, { ...real!.bot!, token: 'not.a.token' })).toBe('the bot\'s token is not a token');
  });
});

describe('reading the verifier\'s answer about a published hold', () => {
  const row = { token: 'tA', quorum: 2, published: 'prp_AAAAAAAAAAAAAAAAAAAAAA' };
  const id = row.published;
  it('approved with the owner\'s token and enough others: released with every token', () => {
    expect(awaitingMove(row, { ok: true, value: { id, state: 'approved', token: 'tA', tokens: ['tA', 'tB'], approvers: ['alice', 'bob'] } })).toEqual({
      event: 'quorum',
      patch: { tokens: ['tA', 'tB'], approvers: ['alice', 'bob'] },
      detail: { proposal: id, approvers: 'alice,bob', tokens: 2 },
    });
  });

  it.each([
    ['without the owner\'s own token', ['tX', 'tB']],
    ['with fewer tokens than policy requires', ['tA']],
  ])('attack: approvals handed over %s — nothing is released, it fails', (_name, tokens) => {
    expect(awaitingMove(row, { ok: true, value: { id, state: 'approved', tokens } })?.event).toBe('fail');
  });

  it('pending, or no answer: nothing moves; rejected, expired, a kill switch, a lost publication: it ends, saying why', () => {
    expect(awaitingMove(row, { ok: true, value: { id, state: 'pending' } })).toBeNull();
    expect(awaitingMove(row, { ok: false, code: 'verifier_unavailable', message: 'x', unreachable: true })).toBeNull();
    expect(awaitingMove(row, { ok: true, value: { id, state: 'rejected', reason: 'No.' } })).toMatchObject({ event: 'reject', detail: { reason: 'Rejected by another approver: No.' } });
    expect(awaitingMove(row, { ok: true, value: { id, state: 'expired' } })?.event).toBe('expire');
    expect(awaitingMove(row, { ok: false, code: 'kill_switch_engaged', message: 'killed', unreachable: false })).toMatchObject({ event: 'fail', detail: { reason: 'a kill switch covers it: killed' } });
    expect(awaitingMove(row, { ok: false, code: 'not_found', message: 'x', unreachable: false })?.event).toBe('fail');
  });
});
