// The checks every device-signed JWS shares — approval tokens, log batches, device proofs — after
// its strict form and header: the enrolled key, its revocation, the signature, the payload's schema.
// Runtime-neutral.
import type { z } from 'zod';
import { assertJwsSignature } from './compact-jws';
import type { ParsedJws } from './compact-jws';
import { TokenRejected } from './errors';

/** An enrolled device key as the verifier's registry knows it. */
export interface EnrolledKey {
  kid: string;
  deviceId: string;
  userId: string;
  revoked: boolean;
  publicKey: CryptoKey;
}

/** Exact-match lookup of an enrolled key by `kid`. */
export type EnrolledKeyLookup = (kid: string) => Promise<EnrolledKey | undefined> | EnrolledKey | undefined;

/** A payload's own claim to its signer (its device, its approver), checked before anything else about the key. */
export interface SignerClaim {
  matches(key: EnrolledKey): boolean;
  /** The `key_unknown` message when it does not match. */
  message: string;
}

/**
 * In DESIGN.md's order: `kid` is an enrolled key (exact match) and, when `claim` is given, the one
 * the payload says signed it (`key_unknown` otherwise); the key is not revoked (`key_revoked`); the
 * signature verifies (`signature_invalid`). Returns the key.
 */
export async function enrolledSigner(jws: ParsedJws, lookupKey: EnrolledKeyLookup, claim?: SignerClaim): Promise<EnrolledKey> {
  const key = await lookupKey(jws.header.kid);
  if (!key || key.kid !== jws.header.kid) throw new TokenRejected('key_unknown', 'kid is not an enrolled key');
  if (claim && !claim.matches(key)) throw new TokenRejected('key_unknown', claim.message);
  if (key.revoked) throw new TokenRejected('key_revoked', 'key has been revoked');
  await assertJwsSignature(jws, key.publicKey);
  return key;
}

/** The signed payload under its schema, or `token_malformed` naming the first issue (`what` comes first: `claim act.dig: …`). */
export function signedPayload<T>(schema: z.ZodType<T>, payload: Record<string, unknown>, what: string): T {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new TokenRejected('token_malformed', `${what} ${issue.path.join('.') || '(root)'}: ${issue.message}`);
}
