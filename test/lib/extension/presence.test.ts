// User presence in the background, against a real verifier (SQLite) and a software authenticator:
// enrollment registers the device's credential over its key's challenge; an approval that needs
// presence is signed only with an assertion over the draft stored for exactly that action (its jti,
// iat and exp minted as drafted), and the verifier accepts the token; an assertion for another action,
// by another credential, with no draft, or after the draft ran out signs nothing; a device without a
// credential is told what to do; an approval that needs no presence is signed as before.
// Node only (tests: fake IndexedDB, the WXT fake browser, a verifier on SQLite).
import 'fake-indexeddb/auto';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approveAction } from '@/lib/extension/approvals';
import { askPlan } from '@/lib/extension/approval-plan';
import { EMPTY_AGENT_PROPOSALS } from '@/lib/extension/agent-proposals';
import { agentProposalsSetting } from '@/lib/extension/agent-proposals-store';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import type { PendingActionRow } from '@/lib/extension/db';
import { deviceKey } from '@/lib/extension/device-key';
import { enroll } from '@/lib/extension/enrollment';
import { proposeAction } from '@/lib/extension/held-actions';
import { killState } from '@/lib/extension/kill-switch';
import { listLog } from '@/lib/extension/log';
import { NO_CREDENTIAL_TEXT, enrollmentChallengeOf } from '@/lib/extension/presence';
import { presenceChallengeFor } from '@/lib/extension/presence-handlers';
import { EXTENSION_ID } from '@/lib/extension-identity';
import type { ProposalInput } from '@/lib/messaging/contract';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import { ApprovalClaims, actionDigest, enrollmentChallenge, mintDeviceProof, presenceChallenge } from '@/lib/protocol/index';
import type { PendingProposal } from '@/lib/protocol/index';
import { demoAdapters } from '../../../demo/adapters';
import { injectFetch } from '../../helpers/inject-fetch';
import { PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';
import { createAuthenticator, registerCredential } from '../../helpers/webauthn';
import type { SoftAuthenticator } from '../../helpers/webauthn';
import { forumReplyProposal } from '../../helpers/proposals';

const CONSOLE = 'http://localhost:8081';
const VERIFIER = PUBLIC_URL;
const ACCESS_BODY = '{"visibility":"all-employees","groups":["payroll-team"]}';
const access = (dataset: string): ProposalInput => ({
  kind: 'fetch',
  request: { method: 'PUT', url: `${CONSOLE}/api/datasets/${dataset}/access`, contentType: 'application/json', body: ACCESS_BODY },
  content: null,
  signals: ['assistant-marker'],
  agentHint: 'agent:access-helper',
  diff: null,
});
const reply: ProposalInput = forumReplyProposal;

const view = effectivePolicy({ protectedSites: ['http://127.0.0.1:8080/*', `${CONSOLE}/*`], adapters: JSON.stringify(demoAdapters()), verifierUrl: VERIFIER }, {});

let v: TestVerifier;
let authenticator: SoftAuthenticator;
let dbName: string;
const now = () => v.clock.now;
const gates = () => ({
  policy: view.policy,
  kill: killState(view.policy, { url: VERIFIER, reachable: true, engaged: false, entries: [], policyVersion: 'x', checkedAt: now(), error: null }),
  verifierReachable: true,
  failClosed: view.failClosed,
  now: now(),
});
/** The plan asked with this browser's device proofs, on the verifier's clock. */
const plan = {
  verifier: VERIFIER,
  fetchFn: injectFetch(() => v.app),
  authorize: async (method: string, url: string) => {
    const key = await deviceKey();
    return mintDeviceProof({ privateKey: key.privateKey, kid: key.kid, method, url, now: v.seconds() });
  },
};

/** Enrolls this browser as alice, with the software authenticator's credential unless `credential` is false. */
async function enrollAlice(credential = true) {
  const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
  const key = await deviceKey();
  const registered = await registerCredential(key.publicJwk);
  authenticator = registered.authenticator;
  return enroll({ verifierUrl: VERIFIER, code, label: 't', ...(credential ? { credential: registered.credential, rpId: EXTENSION_ID } : {}) }, injectFetch(() => v.app));
}

/** Holds `input` on its page and asks its plan, as the background does when it is held. */
async function hold(input: ProposalInput): Promise<PendingActionRow> {
  const page = new URL(input.request.url).origin + '/page';
  const row = await proposeAction(input, { view, pageUrl: page, tabId: 7, userId: 'alice', now: now() });
  await askPlan(row, plan);
  return (await db().actions.get(row.id))!;
}

/** The popup's side: the challenge asked, and the authenticator's assertion over it. */
async function assertFor(row: PendingActionRow, by: SoftAuthenticator = authenticator) {
  const asked = await presenceChallengeFor({ kind: 'held', id: row.id }, now());
  if (asked.presence !== 'uv') throw new Error('expected a presence challenge');
  return { asked, wa: await by.assert(asked.challenge) };
}

const verifyAccess = (token: string | null, dataset: string) =>
  v.verify({ token, request: access(dataset).request, scope: 'admin.acl.write', principal: { kind: 'user', id: 'alice' }, assisted: true });

beforeEach(async () => {
  v = await startVerifier('sqlite');
  await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], ['http://127.0.0.1:8080']);
  await v.registerAgent('agent:access-helper', 'alice', ['admin.acl.write'], [CONSOLE]);
  dbName = `cs-presence-${crypto.randomUUID()}`;
  useDatabase(new CountersignDb(dbName));
});
afterEach(() => v.close());

describe('enrollment with a credential', () => {
  it('gives the device key\'s kid and its registration challenge, and keeps the credential the verifier registered with the RP id the page used', async () => {
    const key = await deviceKey();
    expect(await enrollmentChallengeOf()).toEqual({ kid: key.kid, challenge: await enrollmentChallenge(key.kid) });
    const row = await enrollAlice();
    expect(row.presence).toEqual({ credentialId: authenticator.credentialId, rpId: EXTENSION_ID });
    expect((await db().enrollment.get('current'))?.presence).toEqual(row.presence);
  });

  it('enrolls without one when the page had none: no presence on the row', async () => {
    expect((await enrollAlice(false)).presence).toBeUndefined();
  });

  it('attack: a credential registered over another device key\'s challenge is refused, and nothing is enrolled', async () => {
    const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
    await deviceKey();
    const other = createAuthenticator();
    const credential = other.register(await enrollmentChallenge('another-kid'));
    await expect(enroll({ verifierUrl: VERIFIER, code, label: 't', credential, rpId: EXTENSION_ID }, injectFetch(() => v.app))).rejects.toMatchObject({ code: 'payload_invalid' });
    expect(await db().enrollment.get('current')).toBeUndefined();
  });
});

describe('an approval that needs presence (admin.acl.write)', () => {
  beforeEach(() => enrollAlice());

  it('the held action keeps its plan\'s requirement, so the popup says so before the click', async () => {
    expect((await hold(access('payroll-2026'))).presence).toBe('uv');
    expect((await hold(reply)).presence).toBe('none');
  });

  it('asks for an assertion with the device\'s credential, for the RP id it was created for, over a draft kept in the database', async () => {
    const row = await hold(access('payroll-2026'));
    const { asked } = await assertFor(row);
    expect(asked).toMatchObject({ presence: 'uv', credentialId: authenticator.credentialId, rpId: EXTENSION_ID });
    // The service worker stopping loses nothing: another connection to the same database finds the draft.
    useDatabase(new CountersignDb(dbName));
    expect(await db().presenceDrafts.get(`held:${row.id}`)).toMatchObject({ dig: row.digest, challenge: asked.challenge });
  });

  it('a user-verified assertion over its draft: the token carries it with the drafted jti and exp, and the verifier allows it', async () => {
    const row = await hold(access('payroll-2026'));
    const { wa } = await assertFor(row);
    const draft = (await db().presenceDrafts.get(`held:${row.id}`))!;
    const approved = await approveAction(row.id, gates(), undefined, wa);
    expect(approved.state).toBe('approved');
    const claims = ApprovalClaims.parse(decodeJwt(approved.token!));
    expect(claims).toMatchObject({ jti: draft.jti, iat: draft.iat, exp: draft.exp, wa });
    expect(await db().presenceDrafts.get(`held:${row.id}`)).toBeUndefined();
    const verdict = await verifyAccess(approved.token, 'payroll-2026');
    expect(verdict.statusCode).toBe(200);
    expect(verdict.json()).toMatchObject({ allow: true });
    expect((await listLog({ trace: row.spec.trc })).at(-1)).toMatchObject({ type: 'approved', detail: { presence: 'uv', jti: draft.jti } });
  });

  it('attack: a browser-driving agent clicks Approve with no assertion — refused presence_required, nothing signed', async () => {
    const row = await hold(access('payroll-2026'));
    await expect(approveAction(row.id, gates())).rejects.toMatchObject({ code: 'presence_required' });
    expect(await db().actions.get(row.id)).toMatchObject({ state: 'held', token: null });
  });

  it('attack: an assertion made for one action replayed on another — refused, nothing signed', async () => {
    const first = await hold(access('payroll-2026'));
    const second = await hold(access('salaries-2026'));
    const { wa } = await assertFor(first);
    await presenceChallengeFor({ kind: 'held', id: second.id }, now());
    await expect(approveAction(second.id, gates(), undefined, wa)).rejects.toMatchObject({ code: 'presence_invalid' });
    expect(await db().actions.get(second.id)).toMatchObject({ state: 'held', token: null });
  });

  it('attack: an assertion by another authenticator than the enrolled one — refused, nothing signed', async () => {
    const row = await hold(access('payroll-2026'));
    const { wa } = await assertFor(row, createAuthenticator());
    await expect(approveAction(row.id, gates(), undefined, wa)).rejects.toMatchObject({ code: 'presence_invalid', message: expect.stringMatching(/another credential/) });
    expect((await db().actions.get(row.id))?.token).toBeNull();
  });

  it('a new ask replaces the draft: an assertion over the older challenge signs nothing', async () => {
    const row = await hold(access('payroll-2026'));
    const { wa: older } = await assertFor(row);
    await presenceChallengeFor({ kind: 'held', id: row.id }, now());
    await expect(approveAction(row.id, gates(), undefined, older)).rejects.toMatchObject({ code: 'presence_invalid' });
  });

  it('an assertion with no draft waiting (never asked, or the draft was used) signs nothing', async () => {
    const row = await hold(access('payroll-2026'));
    const { wa } = await assertFor(row);
    await db().presenceDrafts.clear();
    await expect(approveAction(row.id, gates(), undefined, wa)).rejects.toMatchObject({ code: 'presence_invalid', message: expect.stringMatching(/No presence challenge waits/) });
  });

  it('a draft past its exp (the person took longer than an approval lives) signs nothing', async () => {
    const row = await hold(access('payroll-2026'));
    const { wa } = await assertFor(row);
    const draft = (await db().presenceDrafts.get(`held:${row.id}`))!;
    v.clock.now = draft.exp * 1000;
    await expect(approveAction(row.id, gates(), undefined, wa)).rejects.toMatchObject({ code: 'expired' });
    expect((await db().actions.get(row.id))?.token).toBeNull();
  });

  it('an action that needs no presence is answered `none`, keeps no draft, and is signed without `wa`', async () => {
    const row = await hold(reply);
    expect(await presenceChallengeFor({ kind: 'held', id: row.id }, now())).toEqual({ presence: 'none' });
    expect(await db().presenceDrafts.count()).toBe(0);
    const approved = await approveAction(row.id, gates());
    expect(ApprovalClaims.parse(decodeJwt(approved.token!)).wa).toBeUndefined();
    expect((await v.verify({ token: approved.token, request: reply.request, scope: 'forum.post', contentField: 'body', principal: { kind: 'user', id: 'alice' }, assisted: true })).statusCode).toBe(200);
  });

  it('a plan not known yet is asked again when the popup asks, and kept', async () => {
    const row = await proposeAction(access('payroll-2026'), { view, pageUrl: `${CONSOLE}/page`, tabId: 7, userId: 'alice', now: now() });
    expect(row.presence).toBeUndefined();
    const asked = await presenceChallengeFor({ kind: 'held', id: row.id }, now(), async (r) => (await askPlan(r, plan))?.presence ?? null);
    expect(asked.presence).toBe('uv');
    expect((await db().actions.get(row.id))?.presence).toBe('uv');
  });

  it('an action no longer held is not asked about', async () => {
    const row = await hold(reply);
    await approveAction(row.id, gates());
    await expect(presenceChallengeFor({ kind: 'held', id: row.id }, now())).rejects.toMatchObject({ code: 'not_pending' });
  });
});

describe('a device enrolled without a credential', () => {
  beforeEach(() => enrollAlice(false));

  it('is told, when it asks, that it needs an authenticator and how to get one', async () => {
    const row = await hold(access('payroll-2026'));
    await expect(presenceChallengeFor({ kind: 'held', id: row.id }, now())).rejects.toMatchObject({ code: 'presence_required', message: NO_CREDENTIAL_TEXT });
  });

  it('cannot approve what needs presence, and is told the same; what needs none it still approves', async () => {
    const row = await hold(access('payroll-2026'));
    await expect(approveAction(row.id, gates())).rejects.toMatchObject({ code: 'presence_required', message: NO_CREDENTIAL_TEXT });
    expect((await approveAction((await hold(reply)).id, gates())).state).toBe('approved');
  });
});

describe('enrolling again (an authenticator to add, or a lost one)', () => {
  it('enrolls a fresh key with the new credential over that key\'s challenge; the fresh key signs from then on, and an approval with presence is allowed', async () => {
    const first = await enrollAlice(false);
    const before = await deviceKey();
    const { kid, challenge } = await enrollmentChallengeOf();
    expect(kid).not.toBe(first.kid);
    // The same fresh key for every attempt until one succeeds.
    expect((await enrollmentChallengeOf()).kid).toBe(kid);
    expect(challenge).toBe(await enrollmentChallenge(kid));
    const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
    const fresh = createAuthenticator();
    const again = await enroll({ verifierUrl: VERIFIER, code, label: 't', credential: fresh.register(challenge), rpId: EXTENSION_ID }, injectFetch(() => v.app));
    expect(again).toMatchObject({ kid, presence: { credentialId: fresh.credentialId, rpId: EXTENSION_ID } });
    expect((await deviceKey()).kid).toBe(kid);
    expect(before.kid).toBe(first.kid);
    expect(await db().keys.get('next')).toBeUndefined();
    const row = await hold(access('payroll-2026'));
    const { wa } = await assertFor(row, fresh);
    const approved = await approveAction(row.id, gates(), undefined, wa);
    expect((await verifyAccess(approved.token, 'payroll-2026')).json()).toMatchObject({ allow: true });
  });

  it('a refused attempt keeps the device as it was: the old key still signs, and the fresh key waits for the next attempt', async () => {
    const first = await enrollAlice(false);
    const { kid } = await enrollmentChallengeOf();
    await expect(enroll({ verifierUrl: VERIFIER, code: 'WRONG-CODE', label: 't' }, injectFetch(() => v.app))).rejects.toMatchObject({ code: 'code_invalid' });
    expect((await deviceKey()).kid).toBe(first.kid);
    expect((await db().enrollment.get('current'))?.kid).toBe(first.kid);
    expect((await db().keys.get('next'))?.kid).toBe(kid);
  });
});

describe('an agent proposal (or a published two-person hold)', () => {
  beforeEach(() => enrollAlice());

  async function listed(presence: PendingProposal['presence']): Promise<PendingProposal> {
    const request = access('payroll-2026').request;
    const proposal: PendingProposal = {
      id: `prp_${'A'.repeat(21)}${presence === 'uv' ? 'u' : 'n'}`,
      agent: 'agent:access-helper',
      scope: 'admin.acl.write',
      summary: 'Open payroll-2026 to all employees.',
      request,
      digest: await actionDigest(request),
      traceId: '0af7651916cd43dd8448eb211c80319c',
      createdAt: v.seconds(),
      expiresAt: v.seconds() + 120,
      quorum: 1,
      approvals: [],
      presence,
    };
    await agentProposalsSetting.setValue({ ...EMPTY_AGENT_PROPOSALS, verifierUrl: VERIFIER, proposals: [proposal], fetchedAt: now(), checkedAt: now() });
    return proposal;
  }

  it('asks for presence where the verifier\'s list says so, over the listed digest and the drafted jti and exp', async () => {
    const proposal = await listed('uv');
    const asked = await presenceChallengeFor({ kind: 'proposal', id: proposal.id }, now());
    const draft = (await db().presenceDrafts.get(`proposal:${proposal.id}`))!;
    expect(asked).toEqual({ presence: 'uv', challenge: await presenceChallenge({ dig: proposal.digest, jti: draft.jti, exp: draft.exp }), credentialId: authenticator.credentialId, rpId: EXTENSION_ID });
  });

  it('answers `none` where the list says none, and a proposal not listed is not found', async () => {
    const proposal = await listed('none');
    expect(await presenceChallengeFor({ kind: 'proposal', id: proposal.id }, now())).toEqual({ presence: 'none' });
    await expect(presenceChallengeFor({ kind: 'proposal', id: `prp_${'B'.repeat(22)}` }, now())).rejects.toMatchObject({ code: 'not_found' });
  });
});
