// ES256 keys and signatures: P-256 public-key hygiene, RFC 7638 thumbprints, the P1363 check. Runtime-neutral.
import { calculateJwkThumbprint } from 'jose';
import { z } from 'zod';
import { protocolCrypto } from './crypto-backend';
import { PayloadInvalid } from './errors';

export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export { ECDSA_SHA256 } from './crypto-backend';

const Coordinate = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a 32-byte base64url coordinate');

/**
 * A P-256 public signing key as JWK. Only these members may appear: a private member (`d`), an
 * encryption `use`, key operations other than verify, or any other key type is refused
 * (SECURITY-CASES J-17).
 */
export const Es256PublicJwk = z.strictObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: Coordinate,
  y: Coordinate,
  alg: z.literal('ES256').optional(),
  use: z.literal('sig').optional(),
  key_ops: z.array(z.literal('verify')).length(1).optional(),
  kid: z.string().max(256).optional(),
  ext: z.boolean().optional(),
});
export type Es256PublicJwk = z.infer<typeof Es256PublicJwk>;

/** The members that define the key (RFC 7638 §3.2 for EC). */
export function minimalJwk(jwk: Es256PublicJwk): { kty: 'EC'; crv: 'P-256'; x: string; y: string } {
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

/**
 * Validates and imports an untrusted public JWK for verification. The import itself refuses a point
 * that is not on the curve. Errors are `payload_invalid` naming the field.
 */
export async function importEs256PublicJwk(input: unknown, field = 'publicKeyJwk'): Promise<CryptoKey> {
  const parsed = Es256PublicJwk.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PayloadInvalid(issue.message, [field, ...issue.path.map(String)].join('.'));
  }
  try {
    return await crypto.subtle.importKey('jwk', minimalJwk(parsed.data), ECDSA_P256, true, ['verify']);
  } catch (cause) {
    throw new PayloadInvalid('not a point on P-256', field, { cause });
  }
}

/** RFC 7638 thumbprint (SHA-256, base64url): the `kid` of an enrolled key. */
export function jwkThumbprint(jwk: Es256PublicJwk): Promise<string> {
  return calculateJwkThumbprint(minimalJwk(jwk), 'sha256');
}

/**
 * The one ES256 signature check of Countersign: a 64-byte IEEE P1363 `r‖s` over `data`. Anything
 * else (DER, other lengths, r or s out of range) is false, never an exception.
 */
export async function verifyEs256(key: CryptoKey, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (signature.length !== 64) return false;
  try {
    return await protocolCrypto().verifyEs256(key, data, signature);
  } catch {
    return false;
  }
}


/** A fresh P-256 key pair; the private half is non-extractable unless asked. */
export function generateEs256KeyPair(extractable = false): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ECDSA_P256, extractable, ['sign', 'verify']);
}

/** The public JWK of a key pair's public half (public keys are always exportable). */
export async function exportEs256PublicJwk(publicKey: CryptoKey): Promise<Es256PublicJwk> {
  const jwk = await crypto.subtle.exportKey('jwk', publicKey);
  return Es256PublicJwk.parse(minimalJwk(jwk as Es256PublicJwk));
}

/**
 * Imports a key set (the verifier's receipt JWKS): every member an ES256 public key with a `kid`,
 * no `kid` twice. A mixed, duplicated or partly invalid set is refused whole (SECURITY-CASES J-17).
 */
export async function importEs256Jwks(input: unknown): Promise<Map<string, CryptoKey>> {
  const keys = (input as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new PayloadInvalid('a JWKS needs a keys array', 'keys');
  const imported = new Map<string, CryptoKey>();
  for (const [i, jwk] of keys.entries()) {
    const kid = (jwk as { kid?: unknown } | null)?.kid;
    if (typeof kid !== 'string' || kid === '') throw new PayloadInvalid('every key needs a kid', `keys.${i}.kid`);
    if (imported.has(kid)) throw new PayloadInvalid('duplicate kid', `keys.${i}.kid`);
    imported.set(kid, await importEs256PublicJwk(jwk, `keys.${i}`));
  }
  return imported;
}
