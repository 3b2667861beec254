// User presence at the verifier's routes (DESIGN.md, "User presence"): enrollment registers and pins a
// WebAuthn credential (a bad one is refused and leaves the code usable); on a scope policy marks
// (`admin.acl.write`) /v1/verify, proposal decisions and published held actions need a user-verified
// assertion over this very token and action; the sign count only goes up; bots are never present;
// revocation and re-enrollment. SQLite and PostgreSQL. Node only (tests).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ApprovalPlan,
  EnrollResponse,
  ErrorBody,
  ProposalCreated,
  ProposalDecided,
  ProposalList,
  ProposalStatus,
  actionDigest,
  enrollmentChallenge,
  exportEs256PublicJwk,
  generateEs256KeyPair,
  jwkThumbprint,
  mintDeviceProof,
  newTraceId,
} from '../../../lib/protocol';
import type { ActionRequest } from '../../../lib/protocol';
import { defaultPolicyText } from '../../../server/policy/engine';
import { TWO_PERSON_POLICY, withoutPresence } from '../../helpers/policies';
import { DATABASES, FORUM_REQUEST, FORUM_SCOPE, PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';
import { EXTENSION_ORIGIN, createAuthenticator, flipBit } from '../../helpers/webauthn';
import type { RegistrationOverrides } from '../../helpers/webauthn';

const AGENT = 'agent:access-helper';
const FORUM_AGENT = 'agent:forum-helper';
const ADMIN = 'http://localhost:8081';
const SCOPE = 'admin.acl.write';

let n = 0;
function aclChange(): ActionRequest {
  return { method: 'PUT', url: `${ADMIN}/api/datasets/payroll-2026/access`, contentType: 'application/json', body: JSON.stringify({ visibility: 'all-employees', n: ++n }) };
}

describe.each(DATABASES)('user presence (%s)', (kind) => {
  let v: TestVerifier;
  let alice: Device;
  let bob: Device;
  let key: string;

  beforeAll(async () => {
    v = await startVerifier(kind, { proposalSweepMs: 3_600_000 });
    alice = await v.enroll('alice');
    bob = await v.enroll('bob');
    await v.registerAgent(AGENT, 'alice', [SCOPE], [ADMIN]);
    await v.registerAgent(FORUM_AGENT, 'alice');
    ({ key } = (await v.admin('POST', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys`)).json() as { key: string });
  });
  afterAll(() => v.close());
  beforeEach(async () => {
    // Past the previous test's rate-limit windows; the default policy unless a test sets another.
    v.clock.now += 61_000;
    expect((await v.admin('PUT', '/v1/admin/policy', { text: defaultPolicyText() })).statusCode).toBe(200);
  });

  const verifyAcl = (token: string | string[], request: ActionRequest, extra: object = {}) =>
    v.verifyExact({ ...(Array.isArray(token) ? { tokens: token } : { token }), request, scope: SCOPE, ...extra });
  const mintAcl = (device: Device, request: ActionRequest, o: Parameters<TestVerifier['mint']>[1] = {}) => v.mint(device, { request, agent: AGENT, scope: SCOPE, ...o });
  const codeOf = (res: { json(): unknown }) => ErrorBody.parse(res.json()).error.code;
  const storedCount = async (device: Device) =>
    Number((await v.database.db.selectFrom('webauthn_credentials').select('sign_count').where('device_id', '=', device.deviceId).executeTakeFirstOrThrow()).sign_count);
  async function deviceCall(device: Device, method: 'GET' | 'POST', url: string, payload?: unknown) {
    const authorization = await mintDeviceProof({ privateKey: device.privateKey, kid: device.kid, method, url: `${PUBLIC_URL}${url}`, now: v.seconds() });
    return v.app.inject({ method, url, headers: { authorization }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  }
  const propose = (request: ActionRequest) =>
    v.app.inject({ method: 'POST', url: '/v1/proposals', headers: { authorization: `Bearer ${key}` }, payload: { request, scope: SCOPE, summary: 'Widen payroll access' } });
  const poll = (id: string) => v.app.inject({ method: 'GET', url: `/v1/proposals/${id}`, headers: { authorization: `Bearer ${key}` } });
  const setPolicy = async (text: string) => expect((await v.admin('PUT', '/v1/admin/policy', { text })).statusCode).toBe(200);

  describe('enrollment with a credential', () => {
    async function freshEnrollment(userId = 'erin') {
      const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId })).json() as { code: string };
      const pair = await generateEs256KeyPair();
      const publicKeyJwk = await exportEs256PublicJwk(pair.publicKey);
      const kid = await jwkThumbprint(publicKeyJwk);
      const enroll = (credential?: unknown) =>
        v.app.inject({ method: 'POST', url: '/v1/enroll', payload: { code, publicKeyJwk, label: "erin's laptop", ...(credential !== undefined ? { credential } : {}) } });
      return { code, kid, enroll, challenge: await enrollmentChallenge(kid) };
    }

    it('registers the credential with the device, pins the extension origin and the RP id, and says so', async () => {
      const e = await freshEnrollment();
      const auth = createAuthenticator();
      const res = await e.enroll(auth.register(e.challenge));
      expect(res.statusCode, res.body).toBe(201);
      const body = EnrollResponse.parse(res.json());
      expect(body.presence).toEqual({ credentialId: auth.credentialId, rpId: EXTENSION_ORIGIN });
      const row = await v.database.db.selectFrom('webauthn_credentials').selectAll().where('device_id', '=', body.deviceId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ user_id: 'erin', kid: e.kid, credential_id: auth.credentialId, origin: EXTENSION_ORIGIN, rp_id: EXTENSION_ORIGIN });
      expect(Number(row.sign_count)).toBe(0);
      const devices = (await v.admin('GET', '/v1/admin/devices?user=erin')).json().devices as { kid: string; presence: boolean }[];
      expect(devices.find((d) => d.kid === e.kid)?.presence).toBe(true);
    });

    it('the registration Chromium made in the extension\'s options page (recorded) enrolls, pinned to the whole origin Chromium hashed', async () => {
      const recorded = JSON.parse(readFileSync(new URL('../../fixtures/webauthn/chromium-extension.json', import.meta.url), 'utf8')) as {
        device: { publicKeyJwk: unknown };
        registration: unknown;
        rpId: string;
      };
      const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'judy' })).json() as { code: string };
      const res = await v.app.inject({ method: 'POST', url: '/v1/enroll', payload: { code, publicKeyJwk: recorded.device.publicKeyJwk, label: "judy's Chromium", credential: recorded.registration } });
      expect(res.statusCode, res.body).toBe(201);
      expect(EnrollResponse.parse(res.json()).presence?.rpId).toBe(recorded.rpId);
    });

    it('a device without an authenticator enrolls without one, and is listed so', async () => {
      const e = await freshEnrollment('frank');
      const res = await e.enroll();
      expect(res.statusCode, res.body).toBe(201);
      expect(EnrollResponse.parse(res.json()).presence).toBeUndefined();
      const devices = (await v.admin('GET', '/v1/admin/devices?user=frank')).json().devices as { kid: string; presence: boolean }[];
      expect(devices.find((d) => d.kid === e.kid)?.presence).toBe(false);
    });

    const bad: [string, (challenge: string, kidOfOther: string) => Promise<unknown>][] = [
      ['a bit-flipped attestation', async (c) => { const r = createAuthenticator().register(c); return { ...r, response: { ...r.response, attestationObject: flipBit(r.response.attestationObject, 40) } }; }],
      ['a web page\'s origin', async (c) => createAuthenticator().register(c, { origin: 'http://localhost:8081' })],
      ['the challenge of another device key', async (_c, other) => createAuthenticator().register(other)],
      ['user verification off', async (c) => createAuthenticator().register(c, { uv: false } satisfies RegistrationOverrides)],
    ];
    it.each(bad)('attack: a credential with %s → 400 payload_invalid naming credential, and the code is not spent', async (_what, make) => {
      const e = await freshEnrollment();
      const other = await enrollmentChallenge(await jwkThumbprint(await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey)));
      const res = await e.enroll(await make(e.challenge, other));
      expect(res.statusCode).toBe(400);
      const { error } = ErrorBody.parse(res.json());
      expect(error.code).toBe('payload_invalid');
      expect(error.message).toMatch(/^credential/);
      // The same code still enrolls, with a good credential.
      expect((await e.enroll(createAuthenticator().register(e.challenge))).statusCode).toBe(201);
    });

    it('attack: one authenticator credential registered for a second device → 400 payload_invalid, the code not spent', async () => {
      const first = await freshEnrollment();
      const auth = createAuthenticator();
      expect((await first.enroll(auth.register(first.challenge))).statusCode).toBe(201);
      const second = await freshEnrollment();
      const res = await second.enroll(auth.register(second.challenge));
      expect([res.statusCode, codeOf(res)]).toEqual([400, 'payload_invalid']);
      expect((await second.enroll(createAuthenticator().register(second.challenge))).statusCode).toBe(201);
    });
  });

  describe('/v1/verify on a scope that needs presence', () => {
    it('a user-verified assertion over this token and action is allowed, and the stored sign count advances to it', async () => {
      const request = aclChange();
      const before = await storedCount(alice);
      const res = await verifyAcl((await mintAcl(alice, request)).token, request);
      expect(res.statusCode, res.body).toBe(200);
      expect(await storedCount(alice)).toBe(alice.authenticator!.counter);
      expect(alice.authenticator!.counter).toBeGreaterThan(before);
    });

    it('attack: a browser-driving agent clicks Approve without the person: no wa → 403 presence_required, and the token is not spent', async () => {
      const request = aclChange();
      const { token, traceId } = await mintAcl(alice, request, { presence: false });
      const res = await verifyAcl(token, request);
      expect(res.statusCode).toBe(403);
      const { error } = ErrorBody.parse(res.json());
      expect(error).toMatchObject({ code: 'presence_required', traceId });
      expect(error.message).not.toContain(token);
      expect(error.message).not.toContain(token.split('.')[2]);
      // Not spent: the same token is refused for the same reason, not as a replay.
      expect(codeOf(await verifyAcl(token, request))).toBe('presence_required');
      const decisions = (await v.admin('GET', `/v1/admin/events?trace=${traceId}`)).json().decisions as { code: string }[];
      expect(decisions.map((d) => d.code)).toContain('presence_required');
    });

    it('a device enrolled without a credential cannot approve it: presence_required, saying how to get one', async () => {
      const laptop = await v.enroll('alice', { credential: false });
      const request = aclChange();
      const res = await verifyAcl((await mintAcl(laptop, request)).token, request);
      expect(codeOf(res)).toBe('presence_required');
      expect(ErrorBody.parse(res.json()).error.message).toMatch(/enroll/);
      // It can still approve scopes that need no presence.
      expect((await v.verify({ token: (await v.mint(laptop)).token, request: FORUM_REQUEST })).statusCode).toBe(200);
    });

    it('attack: an assertion made for one action replayed on another → 403 presence_invalid', async () => {
      const approved = aclChange();
      const target = aclChange();
      const { jti, exp } = await mintAcl(alice, approved);
      const forOther = await mintAcl(alice, target, { assertFor: { dig: await actionDigest(approved), jti, exp } });
      expect(codeOf(await verifyAcl(forOther.token, target))).toBe('presence_invalid');
    });

    it('attack: the wa of one approval copied into another token for the same action → presence_invalid (the jti is in the challenge)', async () => {
      const request = aclChange();
      const first = await mintAcl(alice, request);
      const copy = await mintAcl(alice, request, { wa: first.wa! });
      expect(codeOf(await verifyAcl(copy.token, request))).toBe('presence_invalid');
      expect((await verifyAcl(first.token, request)).statusCode).toBe(200);
    });

    it('attack: the same click with user verification off (UP only) → presence_invalid', async () => {
      const request = aclChange();
      expect(codeOf(await verifyAcl((await mintAcl(alice, request, { assertion: { uv: false } })).token, request))).toBe('presence_invalid');
    });

    it('attack: another person\'s authenticator (bob\'s assertion in alice\'s token) → presence_invalid', async () => {
      const request = aclChange();
      const { jti, exp } = await mintAcl(alice, request);
      const bobs = await bob.authenticator!.assert({ dig: await actionDigest(request), jti, exp });
      expect(codeOf(await verifyAcl((await mintAcl(alice, request, { wa: bobs })).token, request))).toBe('presence_invalid');
    });

    it('attack: a revoked device with a valid assertion → key_revoked', async () => {
      const laptop = await v.enroll('alice');
      const request = aclChange();
      const { token } = await mintAcl(laptop, request);
      expect((await v.admin('POST', `/v1/admin/devices/${laptop.kid}/revoke`)).statusCode).toBe(200);
      expect(codeOf(await verifyAcl(token, request))).toBe('key_revoked');
    });

    it('attack: a replayed token with its valid assertion → 409 replayed, not presence_invalid', async () => {
      const request = aclChange();
      const { token } = await mintAcl(alice, request);
      expect((await verifyAcl(token, request)).statusCode).toBe(200);
      const again = await verifyAcl(token, request);
      expect([again.statusCode, codeOf(again)]).toEqual([409, 'replayed']);
    });

    it('attack: a cloned authenticator whose sign count goes back → presence_invalid; the genuine one goes on', async () => {
      const clone = alice.authenticator!.clone();
      // The genuine authenticator is used after the copy was taken.
      const request = aclChange();
      expect((await verifyAcl((await mintAcl(alice, request)).token, request)).statusCode).toBe(200);
      const cloned = { ...alice, authenticator: clone };
      const stolen = aclChange();
      expect(codeOf(await verifyAcl((await mintAcl(cloned, stolen)).token, stolen))).toBe('presence_invalid');
      const next = aclChange();
      expect((await verifyAcl((await mintAcl(alice, next)).token, next)).statusCode).toBe(200);
    });

    it('attack: an assertion whose count equals the stored one (not zero) → presence_invalid', async () => {
      const request = aclChange();
      const stored = await storedCount(alice);
      expect(stored).toBeGreaterThan(0);
      expect(codeOf(await verifyAcl((await mintAcl(alice, request, { assertion: { counter: stored } })).token, request))).toBe('presence_invalid');
    });

    it('an authenticator that keeps no counter (0 at registration and after) is accepted each time', async () => {
      const laptop = await v.enroll('alice', { authenticator: { counting: 'zero' } });
      for (let i = 0; i < 2; i++) {
        const request = aclChange();
        expect((await verifyAcl((await mintAcl(laptop, request)).token, request)).statusCode).toBe(200);
      }
      expect(await storedCount(laptop)).toBe(0);
    });

    it('two approvals used out of order: the later count first, then the earlier one is refused (its count went back)', async () => {
      const [r1, r2] = [aclChange(), aclChange()];
      const [t1, t2] = [await mintAcl(alice, r1), await mintAcl(alice, r2)];
      expect((await verifyAcl(t2.token, r2)).statusCode).toBe(200);
      expect(codeOf(await verifyAcl(t1.token, r1))).toBe('presence_invalid');
    });

    it('a wa on a scope that needs no presence is checked too: a good one passes, a forged one is presence_invalid', async () => {
      expect((await v.verify({ token: (await v.mint(alice, { presence: true })).token, request: FORUM_REQUEST })).statusCode).toBe(200);
      const forged = await v.mint(alice, { presence: true, assertion: { uv: false } });
      expect(codeOf(await v.verify({ token: forged.token, request: FORUM_REQUEST }))).toBe('presence_invalid');
    });

    it('presence is judged after the kill switch: a killed scope is kill_switch_engaged whatever the assertion', async () => {
      const request = aclChange();
      const { token } = await mintAcl(alice, request, { presence: false });
      expect((await v.admin('POST', '/v1/admin/kill', { scope: 'agent', target: AGENT })).statusCode).toBe(200);
      try {
        expect(codeOf(await verifyAcl(token, request))).toBe('kill_switch_engaged');
      } finally {
        expect((await v.admin('DELETE', '/v1/admin/kill', { scope: 'agent', target: AGENT })).statusCode).toBe(200);
      }
    });

    it('under the two-person rule each approval needs its own person\'s presence', async () => {
      await setPolicy(TWO_PERSON_POLICY);
      const request = aclChange();
      const traceId = newTraceId();
      const a = await mintAcl(alice, request, { traceId });
      const withoutBobs = await mintAcl(bob, request, { traceId, presence: false });
      expect(codeOf(await verifyAcl([a.token, withoutBobs.token], request))).toBe('presence_required');
      const b = await mintAcl(bob, request, { traceId });
      const res = await verifyAcl([a.token, b.token], request);
      expect(res.statusCode, res.body).toBe(200);
    });

    it('a policy without the presence rule lets an approval without wa through (presence is policy\'s to ask)', async () => {
      await setPolicy(withoutPresence(defaultPolicyText()));
      const request = aclChange();
      expect((await verifyAcl((await mintAcl(alice, request, { presence: false })).token, request)).statusCode).toBe(200);
    });
  });

  describe('proposals and held actions', () => {
    it('pending proposals and approval plans say which approvals will ask for presence', async () => {
      const created = ProposalCreated.parse((await propose(aclChange())).json());
      const listed = ProposalList.parse((await deviceCall(alice, 'GET', '/v1/proposals?state=pending')).json()).proposals.find((p) => p.id === created.id);
      expect(listed?.presence).toBe('uv');
      const plan = (scope: string, agent: string, request: ActionRequest) => deviceCall(alice, 'POST', '/v1/approval-plan', { request, scope, agent, traceId: newTraceId() });
      expect(ApprovalPlan.parse((await plan(SCOPE, AGENT, aclChange())).json())).toEqual({ quorum: 1, presence: 'uv' });
      expect(ApprovalPlan.parse((await plan(FORUM_SCOPE, FORUM_AGENT, FORUM_REQUEST)).json())).toEqual({ quorum: 1, presence: 'none' });
    });

    it('attack: a decision without wa on a presence scope → presence_required, and the proposal stays pending', async () => {
      const request = aclChange();
      const created = ProposalCreated.parse((await propose(request)).json());
      const { token } = await mintAcl(alice, request, { traceId: created.traceId, presence: false });
      const res = await deviceCall(alice, 'POST', `/v1/proposals/${created.id}/decision`, { approve: token });
      expect([res.statusCode, codeOf(res)]).toEqual([403, 'presence_required']);
      expect(ProposalStatus.parse((await poll(created.id)).json()).state).toBe('pending');
    });

    it('two proposals approved with presence in order, executed by the tool in the other order: both pass (each assertion was admitted at its decision)', async () => {
      const [r1, r2] = [aclChange(), aclChange()];
      const [p1, p2] = [ProposalCreated.parse((await propose(r1)).json()), ProposalCreated.parse((await propose(r2)).json())];
      for (const [p, r] of [[p1, r1], [p2, r2]] as const) {
        const { token } = await mintAcl(alice, r, { traceId: p.traceId });
        const decided = await deviceCall(alice, 'POST', `/v1/proposals/${p.id}/decision`, { approve: token });
        expect(ProposalDecided.parse(decided.json()).state).toBe('approved');
      }
      const tokenOf = async (id: string) => ProposalStatus.parse((await poll(id)).json()).token!;
      expect((await verifyAcl(await tokenOf(p2.id), r2)).statusCode).toBe(200);
      const first = await verifyAcl(await tokenOf(p1.id), r1);
      expect(first.statusCode, first.body).toBe(200);
    });

    it('attack: a held action published without wa → presence_required; with it, published', async () => {
      await setPolicy(TWO_PERSON_POLICY);
      const request = aclChange();
      const traceId = newTraceId();
      const publish = (token: string) => deviceCall(alice, 'POST', '/v1/proposals/held', { request, scope: SCOPE, summary: 'Make payroll visible to all employees', approve: token });
      expect(codeOf(await publish((await mintAcl(alice, request, { traceId, presence: false })).token))).toBe('presence_required');
      const res = await publish((await mintAcl(alice, request, { traceId })).token);
      expect(res.statusCode, res.body).toBe(201);
      const created = ProposalCreated.parse(res.json());
      // bob approves with his own presence; the tool then takes both tokens.
      const decided = await deviceCall(bob, 'POST', `/v1/proposals/${created.id}/decision`, { approve: (await mintAcl(bob, request, { traceId })).token });
      expect(ProposalDecided.parse(decided.json()).state).toBe('approved');
      const done = ProposalStatus.parse((await deviceCall(alice, 'GET', `/v1/proposals/${created.id}`)).json());
      const allowed = await verifyAcl(done.tokens!, request, { principal: { kind: 'user', id: 'alice' }, assisted: true });
      expect(allowed.statusCode, allowed.body).toBe(200);
    });

    it('attack: a policy bot is never present — its rule on a presence scope approves nothing, and a bot token issued before presence was required is presence_required', async () => {
      const rule = '@id("acl-bot-rule") @expires("2030-01-01T00:00:00Z") permit (principal == Bot::"acl-bot", action == Action::"approve", resource is Agent) when { context.scope == "admin.acl.write" };';
      await setPolicy(`${defaultPolicyText()}\n${rule}`);
      const waits = ProposalCreated.parse((await propose(aclChange())).json());
      expect(waits.state).toBe('pending');
      const plan = ApprovalPlan.parse((await deviceCall(alice, 'POST', '/v1/approval-plan', { request: aclChange(), scope: SCOPE, agent: AGENT, traceId: newTraceId() })).json());
      expect(plan).toEqual({ quorum: 1, presence: 'uv' });

      await setPolicy(`${withoutPresence(defaultPolicyText())}\n${rule}`);
      v.clock.now += 61_000;
      const request = aclChange();
      const approved = ProposalCreated.parse((await propose(request)).json());
      expect(approved.state).toBe('approved');
      const token = ProposalStatus.parse((await poll(approved.id)).json()).token!;
      await setPolicy(`${defaultPolicyText()}\n${rule}`);
      expect(codeOf(await verifyAcl(token, request))).toBe('presence_required');
    });
  });

  describe('a lost authenticator', () => {
    it('the admin revokes the device and issues a new code; the new device\'s credential works, the old device\'s does not', async () => {
      const lost = await v.enroll('grace');
      const pending = aclChange();
      const { token: old } = await mintAcl(lost, pending);
      expect((await v.admin('POST', `/v1/admin/devices/${lost.kid}/revoke`)).statusCode).toBe(200);
      const devices = (await v.admin('GET', '/v1/admin/devices?user=grace')).json().devices as { kid: string; revokedAt: number | null }[];
      expect(devices.find((d) => d.kid === lost.kid)?.revokedAt).not.toBeNull();
      const replacement = await v.enroll('grace');
      expect(codeOf(await verifyAcl(old, pending))).toBe('key_revoked');
      await v.registerAgent('agent:grace-helper', 'grace', [SCOPE], [ADMIN]);
      const request = aclChange();
      const res = await v.verifyExact({ token: (await v.mint(replacement, { request, agent: 'agent:grace-helper', scope: SCOPE })).token, request, scope: SCOPE });
      expect(res.statusCode, res.body).toBe(200);
    });

    it('attack: the old credential in a token signed by the replacement device key → presence_invalid', async () => {
      const lost = await v.enroll('heidi');
      expect((await v.admin('POST', `/v1/admin/devices/${lost.kid}/revoke`)).statusCode).toBe(200);
      const replacement = await v.enroll('heidi');
      await v.registerAgent('agent:heidi-helper', 'heidi', [SCOPE], [ADMIN]);
      const request = aclChange();
      const withOld = await v.mint({ ...replacement, authenticator: lost.authenticator! }, { request, agent: 'agent:heidi-helper', scope: SCOPE });
      expect(codeOf(await v.verifyExact({ token: withOld.token, request, scope: SCOPE }))).toBe('presence_invalid');
    });
  });
});
