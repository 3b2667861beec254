// The organisation's extension policy on the verifier: set by an admin (versioned, validated whole),
// fetched by enrolled devices with a device proof and ETag; and the device proof's attacks. SQLite and
// PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDeviceProof, newTraceId } from '../../../lib/protocol';
import { DATABASES, PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';

const DOCUMENT = {
  protectedSites: ['http://127.0.0.1:8080/*'],
  assistantAccounts: ['assistant'],
  approvalTtlSeconds: 90,
  adapters: [
    {
      id: 'wiki',
      match: ['http://wiki.corp:8090/*'],
      actions: [{ scope: 'wiki.edit', request: { method: 'POST', url: '/api.php' }, content: 'text' }],
    },
  ],
};

describe.each(DATABASES)('organisation policy on %s', (kind) => {
  let v: TestVerifier;
  let alice: Device;
  beforeAll(async () => {
    v = await startVerifier(kind);
    alice = await v.enroll('alice');
  });
  afterAll(() => v.close());

  const proof = (device: Device, options: { method?: string; path?: string; now?: number } = {}) =>
    mintDeviceProof({ privateKey: device.privateKey, kid: device.kid, method: options.method ?? 'GET', url: `${PUBLIC_URL}${options.path ?? '/v1/extension-policy'}`, now: options.now ?? v.seconds() });
  const fetchPolicy = async (authorization: string, headers: Record<string, string> = {}) =>
    v.app.inject({ method: 'GET', url: '/v1/extension-policy', headers: { authorization, ...headers } });

  it('is empty (version 0) before an admin sets one, for the admin and for a device', async () => {
    expect((await v.admin('GET', '/v1/admin/extension-policy')).json()).toEqual({ version: 0, policy: {}, updatedAt: null });
    const res = await fetchPolicy(await proof(alice));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ version: 0, policy: {}, updatedAt: null });
    expect(res.headers.etag).toBe('"0"');
  });

  it('an admin sets a version; a device fetches it, and If-None-Match answers 304', async () => {
    const put = await v.admin('PUT', '/v1/admin/extension-policy', DOCUMENT);
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ version: 1, policy: DOCUMENT });
    const res = await fetchPolicy(await proof(alice));
    expect(res.json()).toMatchObject({ version: 1, policy: DOCUMENT });
    expect(res.headers.etag).toBe('"1"');
    const again = await fetchPolicy(await proof(alice), { 'if-none-match': '"1"' });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const stale = await fetchPolicy(await proof(alice), { 'if-none-match': '"0"' });
    expect(stale.statusCode).toBe(200);
  });

  it.each([
    ['verifierUrl (it never sets where signatures go)', { ...DOCUMENT, verifierUrl: 'https://evil.example' }, 'verifierUrl'],
    ['an unparsable match pattern', { protectedSites: ['http://wiki.corp:99999/*'] }, 'protectedSites'],
    ['an adapter with a null field', { adapters: [{ ...DOCUMENT.adapters[0], agent: null }] }, 'adapters'],
    ['adapters as a string', { adapters: '[]' }, 'adapters'],
    ['a TTL over the cap', { approvalTtlSeconds: 601 }, 'approvalTtlSeconds'],
  ])('a malformed document is refused whole (400 payload_invalid naming the field) and the old version stays: %s', async (_name, document, field) => {
    const res = await v.admin('PUT', '/v1/admin/extension-policy', document);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'payload_invalid', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(res.json().error.message).toContain(field);
    expect((await v.admin('GET', '/v1/admin/extension-policy')).json()).toMatchObject({ version: 1 });
  });

  it('only an admin can set or read it through the admin route', async () => {
    const res = await v.app.inject({ method: 'PUT', url: '/v1/admin/extension-policy', payload: DOCUMENT });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('unauthorized');
  });

  describe('device proof attacks on GET /v1/extension-policy', () => {
    it('no Authorization → 401 token_missing; a Bearer token instead → 400 token_malformed', async () => {
      expect((await v.app.inject({ method: 'GET', url: '/v1/extension-policy' })).json().error.code).toBe('token_missing');
      expect((await fetchPolicy('Bearer abc')).json().error.code).toBe('token_malformed');
    });

    it('a replayed proof → 409 replayed', async () => {
      const once = await proof(alice);
      expect((await fetchPolicy(once)).statusCode).toBe(200);
      const replay = await fetchPolicy(once);
      expect(replay.statusCode).toBe(409);
      expect(replay.json().error.code).toBe('replayed');
    });

    it('a proof for another route or method → 403 action_mismatch', async () => {
      expect((await fetchPolicy(await proof(alice, { path: '/v1/proposals' }))).json().error.code).toBe('action_mismatch');
      expect((await fetchPolicy(await proof(alice, { method: 'POST' }))).json().error.code).toBe('action_mismatch');
      // The URL bound is the verifier's configured public URL: a proof made for another host is refused.
      const other = await mintDeviceProof({ privateKey: alice.privateKey, kid: alice.kid, method: 'GET', url: 'https://other.example/v1/extension-policy', now: v.seconds() });
      expect((await fetchPolicy(other)).json().error.code).toBe('action_mismatch');
    });

    it('a proof older than 60 s → token_expired; one from the future → token_not_yet_valid', async () => {
      expect((await fetchPolicy(await proof(alice, { now: v.seconds() - 61 }))).json().error.code).toBe('token_expired');
      expect((await fetchPolicy(await proof(alice, { now: v.seconds() + 61 }))).json().error.code).toBe('token_not_yet_valid');
    });

    it("a revoked device's proof → 403 key_revoked", async () => {
      const bob = await v.enroll('bob');
      expect((await v.admin('POST', `/v1/admin/devices/${bob.kid}/revoke`)).statusCode).toBe(200);
      expect((await fetchPolicy(await proof(bob))).json().error.code).toBe('key_revoked');
    });

    it('a proof signed by a key that is not enrolled → 403 key_unknown; a tampered signature → signature_invalid', async () => {
      const stranger = await startVerifier('sqlite');
      try {
        const mallory = await stranger.enroll('mallory');
        expect((await fetchPolicy(await proof(mallory))).json().error.code).toBe('key_unknown');
      } finally {
        await stranger.close();
      }
      const good = await proof(alice);
      const flipped = `${good.slice(0, -2)}${good.at(-2) === 'A' ? 'B' : 'A'}${good.at(-1)}`;
      expect((await fetchPolicy(flipped)).json().error.code).toBe('signature_invalid');
    });

    it('an approval token offered as a device proof → 403 typ_invalid', async () => {
      const { token } = await v.mint(alice, { traceId: newTraceId() });
      expect((await fetchPolicy(`Countersign-Device ${token}`)).json().error.code).toBe('typ_invalid');
    });
  });
});

describe('the verifier describes itself at /', () => {
  let v: TestVerifier;
  beforeAll(async () => {
    v = await startVerifier('sqlite');
  });
  afterAll(() => v.close());

  it('answers with its name, version and links to /v1/status and the JWKS', async () => {
    const res = await v.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Countersign verifier', version: expect.stringMatching(/^\d+\.\d+\.\d+/), links: { status: '/v1/status', jwks: '/.well-known/jwks.json' } });
  });
});
