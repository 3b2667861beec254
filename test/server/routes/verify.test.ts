// POST /v1/verify end to end through HTTP on SQLite and PostgreSQL: the allow path with its receipt,
// every refusal code with its status, decision records, replay races and restarts; the route's scope
// binding the token, and the receipt's text read by the verifier from the approved body.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentDigest, encodeBase64url, importEs256Jwks, verifyReceipt } from '@/lib/protocol';
import { DATABASES, FORUM_REQUEST, PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';
import { decodePart, malleate } from '../../helpers/approval-world';

describe.each(DATABASES)('POST /v1/verify (%s)', (kind) => {
  let v: TestVerifier;
  let alice: Device;
  let bob: Device;

  beforeAll(async () => {
    v = await startVerifier(kind);
    alice = await v.enroll('alice');
    bob = await v.enroll('bob');
    await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], ['http://127.0.0.1:8080', 'https://payroll.corp.example']);
  });
  afterAll(() => v.close());

  async function decisionCodes(traceId: string): Promise<string[]> {
    const events = (await v.admin('GET', `/v1/admin/events?trace=${traceId}`)).json() as { decisions: Array<{ code: string }> };
    return events.decisions.map((d) => d.code);
  }

  /** Rows in the replay cache for the token's (iss, jti). */
  async function consumedCount(token: string): Promise<number> {
    const { iss, jti } = decodePart(token, 1) as { iss: string; jti: string };
    const rows = await v.database.db.selectFrom('consumed').select('jti').where('iss', '=', iss).where('jti', '=', jti).execute();
    return rows.length;
  }

  async function refusal(body: unknown): Promise<{ status: number; code: string; traceId?: string }> {
    const res = await v.verify(body);
    const json = res.json() as { error?: { code: string; traceId?: string } };
    return { status: res.statusCode, code: json.error?.code ?? 'allowed', ...(json.error?.traceId ? { traceId: json.error.traceId } : {}) };
  }

  it('allows a valid approval and returns a receipt that verifies against the JWKS', async () => {
    const { token, traceId } = await v.mint(alice);
    const res = await v.verify({ token, request: FORUM_REQUEST, scope: 'forum.post', contentField: '/body', principal: { kind: 'agent', id: 'agent:forum-helper' } });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { allow: true; receipt: string; traceId: string };
    expect(body).toEqual({ allow: true, receipt: expect.any(String), traceId });
    const keys = await importEs256Jwks((await v.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json());
    const { claims } = await verifyReceipt(body.receipt, { lookupKey: (kid) => keys.get(kid), issuer: PUBLIC_URL, content: '  Try revoking the group grant. ' });
    const status = (await v.app.inject({ method: 'GET', url: '/v1/status' })).json() as { policyVersion: string };
    expect(claims).toMatchObject({ sub: 'agent:forum-helper', apv: 'alice', trc: traceId, pol: status.policyVersion });
  });

  it('leaves a decision record for the allow and for a refusal, found by trace id', async () => {
    const { token, traceId } = await v.mint(alice);
    await v.verify({ token, request: FORUM_REQUEST });
    await v.verify({ token, request: FORUM_REQUEST });
    const events = (await v.admin('GET', `/v1/admin/events?trace=${traceId}`)).json() as { decisions: Array<{ code: string; agent: string; approver: string; digest: string; policyVersion: string }> };
    expect(events.decisions.map((d) => d.code)).toEqual(['allow', 'replayed']);
    expect(events.decisions[0]).toMatchObject({ agent: 'agent:forum-helper', approver: 'alice', digest: expect.stringMatching(/^[\w-]{43}$/), policyVersion: expect.stringMatching(/^sha256:/) });
  });

  it('A-01: a second use → 409 replayed, carrying the trace id', async () => {
    const { token, traceId } = await v.mint(alice);
    expect((await v.verify({ token, request: FORUM_REQUEST })).statusCode).toBe(200);
    expect(await refusal({ token, request: FORUM_REQUEST })).toEqual({ status: 409, code: 'replayed', traceId });
  });

  it('A-03: a malleated (r, n−s) copy → 409 replayed (the replay key is (iss, jti))', async () => {
    const { token } = await v.mint(alice);
    expect((await v.verify({ token, request: FORUM_REQUEST })).statusCode).toBe(200);
    expect(await refusal({ token: malleate(token), request: FORUM_REQUEST })).toMatchObject({ status: 409, code: 'replayed' });
  });

  it('A-02: 30 parallel uses of one token → exactly one allow', async () => {
    const { token } = await v.mint(alice);
    const results = await Promise.all(Array.from({ length: 30 }, () => v.verify({ token, request: FORUM_REQUEST })));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(29);
  });

  it('A-07: after a restart, a consumed token is still refused, and one issued before the boot epoch too', async () => {
    const { token } = await v.mint(alice);
    expect((await v.verify({ token, request: FORUM_REQUEST })).statusCode).toBe(200);
    const unused = await v.mint(alice);
    v.clock.now += 5000;
    await v.restart();
    expect(await refusal({ token, request: FORUM_REQUEST })).toMatchObject({ status: 403, code: 'token_expired' });
    expect(await refusal({ token: unused.token, request: FORUM_REQUEST })).toMatchObject({ status: 403, code: 'token_expired' });
    const fresh = await v.mint(alice);
    expect((await v.verify({ token: fresh.token, request: FORUM_REQUEST })).statusCode).toBe(200);
  });

  const header = (extra: Record<string, unknown>) => encodeBase64url(JSON.stringify({ alg: 'ES256', typ: 'countersign-approval+jwt', ...extra }));
  const cases: Array<[string, number, string, () => Promise<Record<string, unknown>>]> = [
    ['no token', 401, 'token_missing', async () => ({ request: FORUM_REQUEST })],
    ['an empty token', 401, 'token_missing', async () => ({ token: '', request: FORUM_REQUEST })],
    ['a 1 MB token', 400, 'token_malformed', async () => ({ token: 'a'.repeat(1_000_000), request: FORUM_REQUEST })],
    ['two segments', 400, 'token_malformed', async () => ({ token: 'abc.def', request: FORUM_REQUEST })],
    ['padding on a segment', 400, 'token_malformed', async () => ({ token: `${(await v.mint(alice)).token}=`, request: FORUM_REQUEST })],
    ['alg none', 403, 'alg_not_allowed', async () => {
      const [, p] = (await v.mint(alice)).token.split('.');
      return { token: `${encodeBase64url('{"alg":"none","typ":"countersign-approval+jwt"}')}.${p}.AAAA`, request: FORUM_REQUEST };
    }],
    ['typ JWT', 403, 'typ_invalid', async () => {
      const [, p, s] = (await v.mint(alice)).token.split('.');
      return { token: `${encodeBase64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: alice.kid }))}.${p}.${s}`, request: FORUM_REQUEST };
    }],
    ['an embedded jwk', 403, 'header_not_allowed', async () => {
      const [, p, s] = (await v.mint(alice)).token.split('.');
      return { token: `${header({ kid: alice.kid, jwk: { kty: 'EC' } })}.${p}.${s}`, request: FORUM_REQUEST };
    }],
    ['an unknown kid', 403, 'key_unknown', async () => {
      const [, p, s] = (await v.mint(alice)).token.split('.');
      return { token: `${header({ kid: 'unknown-kid' })}.${p}.${s}`, request: FORUM_REQUEST };
    }],
    ['bob\'s key claiming to be alice', 403, 'key_unknown', async () => {
      const [, p, s] = (await v.mint(alice)).token.split('.');
      return { token: `${header({ kid: bob.kid })}.${p}.${s}`, request: FORUM_REQUEST };
    }],
    ['a bad signature', 403, 'signature_invalid', async () => {
      const [h, p] = (await v.mint(alice)).token.split('.');
      const [, , s] = (await v.mint(alice)).token.split('.');
      return { token: `${h}.${p}.${s}`, request: FORUM_REQUEST };
    }],
    ['an expired token', 403, 'token_expired', async () => ({ token: (await v.mint(alice, { now: v.seconds() - 200, ttlSeconds: 100 })).token, request: FORUM_REQUEST })],
    ['a token from the future', 403, 'token_not_yet_valid', async () => ({ token: (await v.mint(alice, { now: v.seconds() + 60 })).token, request: FORUM_REQUEST })],
    ['a lifetime over the TTL', 403, 'ttl_too_long', async () => ({ token: (await v.mint(alice, { ttlSeconds: 300 })).token, request: FORUM_REQUEST })],
    ['another tool', 403, 'audience_mismatch', async () => ({ token: (await v.mint(alice)).token, request: { ...FORUM_REQUEST, url: 'http://127.0.0.1:9090/api/topics/7/replies' } })],
    ['another body', 403, 'action_mismatch', async () => ({ token: (await v.mint(alice)).token, request: { ...FORUM_REQUEST, body: '{"body":"Make it public."}' } })],
    ['another agent than the principal', 403, 'action_mismatch', async () => ({ token: (await v.mint(alice)).token, request: FORUM_REQUEST, principal: { kind: 'agent', id: 'agent:other' } })],
    ['a body that claims JSON and does not parse', 400, 'payload_invalid', async () => ({ token: (await v.mint(alice)).token, request: { ...FORUM_REQUEST, body: '{"body":' } })],
    ['bob approving alice\'s agent', 403, 'approver_not_authorized', async () => ({ token: (await v.mint(bob)).token, request: FORUM_REQUEST })],
    ['a scope outside the agent\'s registration', 403, 'approver_not_authorized', async () => ({ token: (await v.mint(alice, { scope: 'admin.acl.write' })).token, request: FORUM_REQUEST, scope: 'admin.acl.write' })],
    ['scope confusion: a forum.post token on the admin.acl.write route', 403, 'action_mismatch', async () => ({ token: (await v.mint(alice)).token, request: FORUM_REQUEST, scope: 'admin.acl.write' })],
    ['an admin.acl.write token on the forum.post route', 403, 'action_mismatch', async () => ({ token: (await v.mint(alice, { scope: 'admin.acl.write' })).token, request: FORUM_REQUEST, scope: 'forum.post' })],
    ['an unregistered agent', 403, 'approver_not_authorized', async () => ({ token: (await v.mint(alice, { agent: 'agent:stranger' })).token, request: FORUM_REQUEST })],
    ['an agent approving itself', 403, 'self_approval', async () => ({ token: (await v.mint(alice, { agent: 'alice' })).token, request: FORUM_REQUEST })],
    ['a blocked site', 403, 'site_blocked', async () => {
      const request = { ...FORUM_REQUEST, url: 'https://payroll.corp.example/api/topics/7/replies' };
      return { token: (await v.mint(alice, { request })).token, request };
    }],
  ];

  it.each(cases)('%s → %i %s', async (_name, status, code, make) => {
    expect(await refusal(await make())).toMatchObject({ status, code });
  });

  it.each([
    ['a request without method', { token: 'x', request: { url: 'http://x/', contentType: null, body: null }, scope: 'forum.post' }],
    ['a principal of an unknown kind', { token: 'x', request: FORUM_REQUEST, scope: 'forum.post', principal: { kind: 'robot', id: 'r' } }],
    ['an unknown member', { token: 'x', request: FORUM_REQUEST, scope: 'forum.post', extra: 1 }],
    ['no scope', { token: 'x', request: FORUM_REQUEST }],
    ['an empty scope', { token: 'x', request: FORUM_REQUEST, scope: '' }],
    ['a scope that is not a string', { token: 'x', request: FORUM_REQUEST, scope: ['forum.post'] }],
    ['an empty contentField', { token: 'x', request: FORUM_REQUEST, scope: 'forum.post', contentField: '' }],
    ['a body that is not JSON', '{not json'],
  ])('%s → 400 payload_invalid, with a trace id of its own', async (_name, body) => {
    const res = await v.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/json' }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'payload_invalid', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
  });

  describe('the route\'s scope binds the token', () => {
    it('scope is required: a genuine token without one → 400 payload_invalid naming scope, and the token is not consumed', async () => {
      const { token, traceId } = await v.mint(alice);
      const res = await v.verifyExact({ token, request: FORUM_REQUEST });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'payload_invalid', message: expect.stringContaining('scope') } });
      expect(await decisionCodes(traceId)).toEqual([]);
      expect((await v.verify({ token, request: FORUM_REQUEST, scope: 'forum.post' })).statusCode).toBe(200);
    });

    it('scope confusion: a forum.post token on the admin.acl.write route → 403 action_mismatch with its trace; the token still serves its own route once', async () => {
      const { token, traceId } = await v.mint(alice);
      expect(await refusal({ token, request: FORUM_REQUEST, scope: 'admin.acl.write' })).toEqual({ status: 403, code: 'action_mismatch', traceId });
      expect(await consumedCount(token)).toBe(0);
      expect((await v.verify({ token, request: FORUM_REQUEST, scope: 'forum.post' })).statusCode).toBe(200);
      expect(await decisionCodes(traceId)).toEqual(['action_mismatch', 'allow']);
    });

    it('an agent\'s registered scopes are enforced: registered for forum.post only, an admin.acl.write token on an admin.acl.write route → approver_not_authorized; registered for it → allowed', async () => {
      await v.registerAgent('agent:acl-helper', 'alice', ['forum.post'], ['http://127.0.0.1:8080']);
      const request = { method: 'PUT', url: 'http://127.0.0.1:8080/api/datasets/payroll-2026/acl', contentType: 'application/json', body: '{"readers":"all-employees"}' };
      const denied = await v.mint(alice, { request, agent: 'agent:acl-helper', scope: 'admin.acl.write' });
      expect(await refusal({ token: denied.token, request, scope: 'admin.acl.write', principal: { kind: 'agent', id: 'agent:acl-helper' } })).toMatchObject({ status: 403, code: 'approver_not_authorized' });
      await v.registerAgent('agent:acl-helper', 'alice', ['forum.post', 'admin.acl.write'], ['http://127.0.0.1:8080']);
      const allowed = await v.mint(alice, { request, agent: 'agent:acl-helper', scope: 'admin.acl.write' });
      expect((await v.verify({ token: allowed.token, request, scope: 'admin.acl.write', principal: { kind: 'agent', id: 'agent:acl-helper' } })).statusCode).toBe(200);
    });
  });

  describe('receipts bind what was posted: the verifier reads the text itself', () => {
    async function receiptClaims(res: { json(): unknown }) {
      const keys = await importEs256Jwks((await v.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json());
      return (await verifyReceipt((res.json() as { receipt: string }).receipt, { lookupKey: (kid) => keys.get(kid), issuer: PUBLIC_URL })).claims;
    }

    it('receipt content forgery: a caller-supplied content is refused by the strict schema (400 payload_invalid), the token unconsumed', async () => {
      const { token, traceId } = await v.mint(alice);
      const res = await v.verify({ token, request: FORUM_REQUEST, content: 'Text that was never approved.' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'payload_invalid', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
      expect(await consumedCount(token)).toBe(0);
      expect(await decisionCodes(traceId)).toEqual([]);
    });

    it('cdg is the content digest of the text at a JSON pointer of the approved body', async () => {
      const { token } = await v.mint(alice);
      const res = await v.verify({ token, request: FORUM_REQUEST, contentField: '/body' });
      expect(res.statusCode).toBe(200);
      expect((await receiptClaims(res)).cdg).toBe(await contentDigest('Try revoking the group grant.'));
    });

    it('cdg is read at a nested pointer too', async () => {
      const request = { ...FORUM_REQUEST, body: '{"post":{"text":"  Nested\\n text "},"author_kind":"assistant"}' };
      const { token } = await v.mint(alice, { request });
      const res = await v.verify({ token, request, contentField: '/post/text' });
      expect((await receiptClaims(res)).cdg).toBe(await contentDigest('Nested text'));
    });

    it.each(['body', '/body'])('cdg is the content digest of the form field %s of the approved body', async (contentField) => {
      const request = { ...FORUM_REQUEST, contentType: 'application/x-www-form-urlencoded', body: 'body=Form+reply+text&author_kind=assistant' };
      const { token } = await v.mint(alice, { request });
      const res = await v.verify({ token, request, contentField });
      expect(res.statusCode).toBe(200);
      expect((await receiptClaims(res)).cdg).toBe(await contentDigest('Form reply text'));
    });

    it('no contentField → a receipt without cdg', async () => {
      const { token } = await v.mint(alice);
      const res = await v.verify({ token, request: FORUM_REQUEST });
      expect((await receiptClaims(res)).cdg).toBeUndefined();
    });

    it('a repeated form content field → 400 payload_invalid with the token\'s trace; the jti is not consumed and no allow is recorded', async () => {
      const request = { ...FORUM_REQUEST, contentType: 'application/x-www-form-urlencoded', body: 'body=What+the+owner+saw&author_kind=assistant&body=What+the+tool+posts' };
      const { token, traceId } = await v.mint(alice, { request });
      expect(await refusal({ token, request, contentField: 'body' })).toEqual({ status: 400, code: 'payload_invalid', traceId });
      expect(await consumedCount(token)).toBe(0);
      expect(await decisionCodes(traceId)).toEqual(['payload_invalid']);
      // The digest binds this very body, so no cleaner request can use the token; a route that reads no
      // text from it still can, once: it was never consumed.
      expect((await v.verify({ token, request })).statusCode).toBe(200);
      expect(await consumedCount(token)).toBe(1);
    });
  });

  it('a body over 2 MiB → 413 payload_too_large', async () => {
    const res = await v.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ token: 'x', request: { ...FORUM_REQUEST, body: 'x'.repeat(3 * 1024 * 1024) } }) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  describe('kill switch', () => {
    it('engaged globally → kill_switch_engaged; lifted → tokens issued before it stay void, new ones pass', async () => {
      const before = await v.mint(alice);
      v.clock.now += 1000;
      expect((await v.admin('POST', '/v1/admin/kill', { scope: 'global' })).statusCode).toBe(200);
      const status = (await v.app.inject({ method: 'GET', url: '/v1/status' })).json() as { killSwitch: { engaged: boolean; entries: unknown[] } };
      expect(status.killSwitch).toEqual({ engaged: true, entries: [{ scope: 'global', target: null, since: v.clock.now }] });
      expect(await refusal({ token: before.token, request: FORUM_REQUEST })).toMatchObject({ status: 403, code: 'kill_switch_engaged' });
      v.clock.now += 1000;
      expect((await v.admin('DELETE', '/v1/admin/kill', { scope: 'global' })).json()).toEqual({ lifted: 1 });
      expect(await refusal({ token: before.token, request: FORUM_REQUEST })).toMatchObject({ status: 403, code: 'kill_switch_engaged' });
      v.clock.now += 1000;
      const after = await v.mint(alice);
      expect((await v.verify({ token: after.token, request: FORUM_REQUEST })).statusCode).toBe(200);
    });

    it.each([
      ['agent', { scope: 'agent', target: 'agent:forum-helper' }],
      ['user', { scope: 'user', target: 'alice' }],
      ['site', { scope: 'site', target: 'http://127.0.0.1:8080/' }],
    ])('per %s', async (_name, kill) => {
      v.clock.now += 1000;
      await v.admin('POST', '/v1/admin/kill', kill);
      const { token } = await v.mint(alice);
      expect(await refusal({ token, request: FORUM_REQUEST })).toMatchObject({ status: 403, code: 'kill_switch_engaged' });
      await v.admin('DELETE', '/v1/admin/kill', kill);
      v.clock.now += 1000;
    });

    it('a kill for another agent does not cover this one', async () => {
      v.clock.now += 1000;
      await v.admin('POST', '/v1/admin/kill', { scope: 'agent', target: 'agent:other' });
      v.clock.now += 1000;
      const { token } = await v.mint(alice);
      expect((await v.verify({ token, request: FORUM_REQUEST })).statusCode).toBe(200);
      await v.admin('DELETE', '/v1/admin/kill', { scope: 'agent', target: 'agent:other' });
    });
  });
});

describe('replay cache pruning', () => {
  it('A-11: an entry is kept past exp + skew + a margin, so pruning never reopens a token', async () => {
    const { pruneConsumed, PRUNE_MARGIN_SECONDS } = await import('../../../server/store/decisions');
    const v = await startVerifier('sqlite');
    try {
      const alice = await v.enroll('alice');
      await v.registerAgent('agent:forum-helper', 'alice');
      const { token } = await v.mint(alice, { ttlSeconds: 60 });
      expect((await v.verify({ token, request: FORUM_REQUEST })).statusCode).toBe(200);
      const lastValidSecond = v.seconds() + 60 + 30;
      // At the token's last valid second nothing is pruned, and a replay is refused as a replay.
      expect(await pruneConsumed(v.database.db, lastValidSecond + 1)).toBe(0);
      v.clock.now = lastValidSecond * 1000;
      expect((await v.verify({ token, request: FORUM_REQUEST })).json()).toMatchObject({ error: { code: 'replayed' } });
      // Only well after expiry does the entry go; the token is refused as expired from then on.
      expect(await pruneConsumed(v.database.db, lastValidSecond + PRUNE_MARGIN_SECONDS)).toBe(0);
      expect(await pruneConsumed(v.database.db, lastValidSecond + PRUNE_MARGIN_SECONDS + 1)).toBe(1);
      v.clock.now = (lastValidSecond + PRUNE_MARGIN_SECONDS + 1) * 1000;
      expect((await v.verify({ token, request: FORUM_REQUEST })).json()).toMatchObject({ error: { code: 'token_expired' } });
    } finally {
      await v.close();
    }
  });
});
