// Device-authenticated requests (DESIGN.md): `Authorization: Countersign-Device <JWS>` over the
// request's method and URL, DPoP-shaped, single use, 60 s window. Minted by the extension with its
// device key, checked by the verifier. Runtime-neutral.
import { z } from 'zod';
import { JWS_TYP, parseCompactJws, signCompactJws } from './compact-jws';
import { enrolledSigner, signedPayload } from './device-signed';
import type { EnrolledKey, EnrolledKeyLookup } from './device-signed';
import { canonicalUrl } from './digest';
import { randomBase64url } from './encoding';
import { TokenRejected } from './errors';

/** The Authorization scheme of device-authenticated requests. */
export const DEVICE_AUTH_SCHEME = 'Countersign-Device';
/** How far `iat` may be from the verifier's clock, either way (seconds). */
export const DEVICE_PROOF_WINDOW_SECONDS = 60;

export const DeviceProofClaims = z.strictObject({
  htm: z.string().regex(/^[A-Z]{1,16}$/),
  htu: z.string().min(1).max(8192),
  iat: z.int().min(0).max(2 ** 40),
  jti: z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, 'at least 128 bits of base64url'),
});
export type DeviceProofClaims = z.infer<typeof DeviceProofClaims>;

/** The URL a proof binds: the WHATWG href without fragment (query included). */
function proofUrl(url: string): string {
  return canonicalUrl(url);
}

/** The Authorization header value for one request by this device. */
export async function mintDeviceProof(input: { privateKey: CryptoKey; kid: string; method: string; url: string; now?: number }): Promise<string> {
  const claims = DeviceProofClaims.parse({
    htm: input.method.toUpperCase(),
    htu: proofUrl(input.url),
    iat: input.now ?? Math.floor(Date.now() / 1000),
    jti: randomBase64url(16),
  });
  return `${DEVICE_AUTH_SCHEME} ${await signCompactJws(input.privateKey, { typ: JWS_TYP.device, kid: input.kid }, claims)}`;
}

export interface DeviceProofContext {
  lookupKey: EnrolledKeyLookup;
  /** The request as the verifier received it: its method and its public URL (configured origin + path and query). */
  method: string;
  url: string;
  /** Seconds since 1970. */
  now: number;
  /** Records the proof's `(kid, jti)` until `expiresAt` (seconds); false when it was already there. */
  consume(entry: { kid: string; jti: string; expiresAt: number }): Promise<boolean> | boolean;
}

/**
 * Checks `Authorization: Countersign-Device <JWS>`: strict form and header, an enrolled unrevoked
 * key, the signature, then method, URL, the 60 s window and single use. Returns the device's key
 * (its user is the caller). Throws TokenRejected with DESIGN.md's codes (`token_missing` without one).
 */
export async function verifyDeviceProof(authorization: unknown, ctx: DeviceProofContext): Promise<EnrolledKey> {
  if (typeof authorization !== 'string' || authorization === '') throw new TokenRejected('token_missing', 'no device authorization');
  const prefix = `${DEVICE_AUTH_SCHEME} `;
  if (!authorization.startsWith(prefix)) throw new TokenRejected('token_malformed', `authorization is not ${DEVICE_AUTH_SCHEME}`);
  const jws = parseCompactJws(authorization.slice(prefix.length), JWS_TYP.device);
  const key = await enrolledSigner(jws, ctx.lookupKey);
  const claims = signedPayload(DeviceProofClaims, jws.payload, 'claim');
  if (ctx.now > claims.iat + DEVICE_PROOF_WINDOW_SECONDS) throw new TokenRejected('token_expired', 'device proof is too old');
  if (claims.iat > ctx.now + DEVICE_PROOF_WINDOW_SECONDS) throw new TokenRejected('token_not_yet_valid', 'device proof issued in the future');
  if (claims.htm !== ctx.method.toUpperCase() || claims.htu !== proofUrl(ctx.url)) throw new TokenRejected('action_mismatch', 'device proof is for another request');
  if (!(await ctx.consume({ kid: key.kid, jti: claims.jti, expiresAt: claims.iat + DEVICE_PROOF_WINDOW_SECONDS }))) {
    throw new TokenRejected('replayed', 'device proof was already used');
  }
  return key;
}
