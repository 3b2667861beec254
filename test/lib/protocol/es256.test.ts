// ES256: all 262 Wycheproof P1363 cases through verifyEs256 (the one signature check of
// tokens, receipts and log batches), and the public-key hygiene of enrollment.
import { describe, expect, it } from 'vitest';
import {
  ECDSA_P256,
  exportEs256PublicJwk,
  generateEs256KeyPair,
  importEs256Jwks,
  importEs256PublicJwk,
  jwkThumbprint,
  verifyEs256,
} from '@/lib/protocol/es256';
import { hexToBytes, readVector } from '../../helpers/vectors';

interface P1363Test { tcId: number; comment: string; flags: string[]; msg: string; sig: string; result: 'valid' | 'invalid' }
interface P1363Group { publicKeyJwk?: Record<string, string>; publicKeyDer: string; sha: string; tests: P1363Test[] }
const p1363 = readVector<{ numberOfTests: number; testGroups: P1363Group[] }>('wycheproof/ecdsa_secp256r1_sha256_p1363_test.json');

async function groupKey(group: P1363Group): Promise<CryptoKey> {
  // Groups without a JWK carry edge-case keys only as SPKI; the JWK groups go through the same
  // import the verifier uses for enrolled keys.
  if (group.publicKeyJwk) return importEs256PublicJwk(group.publicKeyJwk);
  return crypto.subtle.importKey('spki', hexToBytes(group.publicKeyDer) as Uint8Array<ArrayBuffer>, ECDSA_P256, false, ['verify']);
}

const cases = p1363.testGroups.flatMap((group, g) => group.tests.map((t) => ({ ...t, g })));

describe('Wycheproof ecdsa_secp256r1_sha256_p1363 through verifyEs256', () => {
  it('runs all 262 cases (173 valid, 89 invalid)', () => {
    expect(p1363.numberOfTests).toBe(262);
    expect(cases).toHaveLength(262);
    expect(cases.filter((c) => c.result === 'valid')).toHaveLength(173);
    expect(p1363.testGroups.every((g) => g.sha === 'SHA-256')).toBe(true);
  });

  it.each(cases)('tcId $tcId ($comment): $result', async ({ g, msg, sig, result }) => {
    const key = await groupKey(p1363.testGroups[g]!);
    expect(await verifyEs256(key, hexToBytes(msg), hexToBytes(sig))).toBe(result === 'valid');
  });
});

describe('ES256 public-key hygiene (enrollment)', () => {
  it('accepts a fresh P-256 public key and derives its RFC 7638 kid', async () => {
    const { publicKey } = await generateEs256KeyPair();
    const jwk = await exportEs256PublicJwk(publicKey);
    await expect(importEs256PublicJwk(jwk)).resolves.toBeDefined();
    expect(await jwkThumbprint(jwk)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('matches the RFC 7638 thumbprint of a known key (jose computes it)', async () => {
    // RFC 7638 §3.1's method applied to the EC key of RFC 7515 A.3.
    const jwk = { kty: 'EC' as const, crv: 'P-256' as const, x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
    const expected = Buffer.from(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`)),
    ).toString('base64url');
    expect(await jwkThumbprint(jwk)).toBe(expected);
  });

  const good = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
  it.each([
    ['a private member d (J-17)', { ...good, d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' }, 'publicKeyJwk'],
    ['use: enc (J-17)', { ...good, use: 'enc' }, 'publicKeyJwk.use'],
    ['key_ops without verify (J-17)', { ...good, key_ops: ['encrypt'] }, 'publicKeyJwk.key_ops.0'],
    ['another curve', { ...good, crv: 'P-384' }, 'publicKeyJwk.crv'],
    ['an RSA key', { kty: 'RSA', n: 'AQAB', e: 'AQAB' }, 'publicKeyJwk.kty'],
    ['an RSA kty with a P-256 crv (J-17)', { ...good, kty: 'RSA' }, 'publicKeyJwk.kty'],
    ['a point not on the curve', { ...good, y: good.x }, 'publicKeyJwk'],
  ])('refuses %s', async (_name, jwk, field) => {
    await expect(importEs256PublicJwk(jwk)).rejects.toMatchObject({ code: 'payload_invalid', field });
  });

  it('refuses every invalid key set of Wycheproof json_web_key_test (J-17)', async () => {
    interface JwkGroup { comment: string; public?: unknown; private: unknown; tests: Array<{ tcId: number; comment: string; result: string }> }
    const file = readVector<{ testGroups: JwkGroup[] }>('wycheproof/json_web_key_test.json');
    const refused: number[] = [];
    for (const group of file.testGroups) {
      const set = (group.public ?? group.private) as { keys?: unknown[] };
      const asSet = Array.isArray(set.keys) ? set : { keys: [set] };
      const ok = await importEs256Jwks(asSet).then(() => true, () => false);
      for (const t of group.tests) {
        // Valid sets of other key types (RSA, HMAC) are refused too: the profile is ES256 only.
        if (t.result === 'invalid') expect(ok, `tcId ${t.tcId} ${group.comment}`).toBe(false);
        if (!ok) refused.push(t.tcId);
      }
    }
    // The EC P-256-shaped ones, refused for the reason their group names (alg, use, point, curve, kty).
    expect(refused).toEqual(expect.arrayContaining([19, 20, 21, 22, 23, 24]));
  });

  it('accepts a JWKS of distinct ES256 keys and refuses a duplicate kid', async () => {
    const a = await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey);
    const b = await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey);
    const keys = await importEs256Jwks({ keys: [{ ...a, kid: 'a' }, { ...b, kid: 'b' }] });
    expect([...keys.keys()]).toEqual(['a', 'b']);
    await expect(importEs256Jwks({ keys: [{ ...a, kid: 'a' }, { ...b, kid: 'a' }] })).rejects.toMatchObject({ field: 'keys.1.kid' });
  });

  it('treats a DER-encoded or wrong-length signature as invalid, never as an exception', async () => {
    const { privateKey, publicKey } = await generateEs256KeyPair();
    const data = new TextEncoder().encode('x');
    const sig = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, data));
    expect(await verifyEs256(publicKey, data, sig)).toBe(true);
    expect(await verifyEs256(publicKey, data, sig.slice(0, 63))).toBe(false);
    expect(await verifyEs256(publicKey, data, new Uint8Array([...sig, 0]))).toBe(false);
    expect(await verifyEs256(publicKey, data, new Uint8Array(64))).toBe(false);
  });
});
