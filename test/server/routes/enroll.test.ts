// POST /v1/enroll and the admin enrollment codes, on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEs256PublicJwk, generateEs256KeyPair, jwkThumbprint } from '@/lib/protocol';
import { DATABASES, startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

describe.each(DATABASES)('enrollment (%s)', (kind) => {
  let v: TestVerifier;
  beforeAll(async () => {
    v = await startVerifier(kind);
  });
  afterAll(() => v.close());

  async function code(userId = 'alice'): Promise<string> {
    const res = await v.admin('POST', '/v1/admin/enrollment-codes', { userId });
    expect(res.statusCode).toBe(201);
    const body = res.json() as { code: string; expiresAt: number };
    expect(body.expiresAt).toBe(v.clock.now + 15 * 60 * 1000);
    return body.code;
  }

  async function enroll(payload: Record<string, unknown>) {
    return v.app.inject({ method: 'POST', url: '/v1/enroll', payload });
  }

  it('registers a P-256 key under its RFC 7638 thumbprint for the code\'s user', async () => {
    const jwk = await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey);
    const res = await enroll({ code: await code('alice'), publicKeyJwk: jwk, label: 'laptop' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ deviceId: expect.stringMatching(/^dev_/), userId: 'alice', kid: await jwkThumbprint(jwk) });
  });

  it('accepts a code typed in lower case without dashes', async () => {
    const jwk = await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey);
    const typed = (await code()).toLowerCase().replace(/-/g, '');
    expect((await enroll({ code: typed, publicKeyJwk: jwk, label: 'l' })).statusCode).toBe(201);
  });

  it('a code enrolls once: reuse → 403 code_invalid', async () => {
    const c = await code();
    const jwk1 = await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey);
    const jwk2 = await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey);
    expect((await enroll({ code: c, publicKeyJwk: jwk1, label: 'a' })).statusCode).toBe(201);
    const again = await enroll({ code: c, publicKeyJwk: jwk2, label: 'b' });
    expect(again.statusCode).toBe(403);
    expect(again.json()).toEqual({ error: { code: 'code_invalid', message: expect.any(String), traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
  });

  it('an unknown or expired (15 min) code → 403 code_invalid', async () => {
    const jwk = await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey);
    expect((await enroll({ code: 'AAAA-BBBB-CCCC-DDDD', publicKeyJwk: jwk, label: 'x' })).json()).toMatchObject({ error: { code: 'code_invalid' } });
    const c = await code();
    v.clock.now += 15 * 60 * 1000 + 1;
    const res = await enroll({ code: c, publicKeyJwk: jwk, label: 'x' });
    v.clock.now -= 15 * 60 * 1000 + 1;
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'code_invalid' } });
  });

  const good = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
  it.each([
    ['an RSA key', { kty: 'RSA', n: 'sXch', e: 'AQAB' }, 'publicKeyJwk.kty'],
    ['a P-384 key', { ...good, crv: 'P-384' }, 'publicKeyJwk.crv'],
    ['use: enc', { ...good, use: 'enc' }, 'publicKeyJwk.use'],
    ['a private member d', { ...good, d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' }, 'publicKeyJwk'],
    ['a point not on the curve', { ...good, y: good.x }, 'publicKeyJwk'],
  ])('refuses %s with 400 payload_invalid naming the field, and the code stays usable', async (_name, jwk, field) => {
    const c = await code();
    const res = await enroll({ code: c, publicKeyJwk: jwk, label: 'x' });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { error: { code: string; message: string } }).error).toMatchObject({ code: 'payload_invalid', message: expect.stringContaining(field) });
    const fresh = await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey);
    expect((await enroll({ code: c, publicKeyJwk: fresh, label: 'x' })).statusCode).toBe(201);
  });

  it.each([
    ['a missing code', { publicKeyJwk: good, label: 'x' }, 'code'],
    ['a missing label', { code: 'x', publicKeyJwk: good }, 'label'],
    ['an extra member', { code: 'x', publicKeyJwk: good, label: 'x', userId: 'admin' }, 'body'],
  ])('%s → 400 payload_invalid', async (_name, payload, field) => {
    const res = await enroll(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'payload_invalid', message: expect.stringContaining(field) } });
  });

  it('the same key cannot be enrolled twice', async () => {
    const jwk = await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey);
    expect((await enroll({ code: await code(), publicKeyJwk: jwk, label: 'a' })).statusCode).toBe(201);
    expect((await enroll({ code: await code('bob'), publicKeyJwk: jwk, label: 'b' })).json()).toMatchObject({ error: { code: 'payload_invalid' } });
  });

  it('revoking a device: 200, then tokens under it are key_revoked; an unknown kid → 404', async () => {
    const device = await v.enroll('alice');
    await v.registerAgent('agent:forum-helper', 'alice');
    const { token } = await v.mint(device);
    expect((await v.admin('POST', `/v1/admin/devices/${device.kid}/revoke`)).statusCode).toBe(200);
    expect((await v.verify({ token, request: (await import('../../helpers/verifier')).FORUM_REQUEST })).json()).toMatchObject({ error: { code: 'key_revoked' } });
    expect((await v.admin('POST', '/v1/admin/devices/nope/revoke')).json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
