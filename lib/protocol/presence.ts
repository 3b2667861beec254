// User presence (DESIGN.md, "User presence"): the WebAuthn assertion an approval carries in `wa`, the
// challenge it signs, and the credential registered at enrollment. Runtime-neutral, pure.
import { z } from 'zod';
import { decodeBase64urlStrict, decodeUtf8Strict, sha256Base64url } from './encoding';

/** What policy asks of an approval: nothing more, or a user-verified WebAuthn assertion. */
export const PresenceRequirement = z.enum(['none', 'uv']);
export type PresenceRequirement = z.infer<typeof PresenceRequirement>;

const Base64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/, 'base64url without padding');

/** Base64url of a credential id (at most 1023 bytes, WebAuthn's limit). */
export const CredentialId = Base64url(1364);
export type CredentialId = z.infer<typeof CredentialId>;

/**
 * The assertion in an approval's `wa` claim: credential id, authenticatorData, clientDataJSON and
 * signature, each base64url, exactly as the authenticator returned them.
 */
export const WebAuthnAssertion = z.strictObject({
  id: CredentialId,
  ad: Base64url(1024),
  cd: Base64url(2048),
  sig: Base64url(256),
});
export type WebAuthnAssertion = z.infer<typeof WebAuthnAssertion>;

/**
 * The credential an enrollment registers (WebAuthn's RegistrationResponseJSON, as
 * `PublicKeyCredential.toJSON()` and @simplewebauthn/browser give it). Its challenge must be
 * `enrollmentChallenge(kid)` of the device key being enrolled.
 */
export const WebAuthnRegistration = z.object({
  id: CredentialId,
  rawId: CredentialId,
  type: z.literal('public-key'),
  response: z.object({
    attestationObject: Base64url(16384),
    clientDataJSON: Base64url(4096),
    transports: z.array(z.string().max(32)).max(16).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: Base64url(4096).optional(),
    authenticatorData: Base64url(16384).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});
export type WebAuthnRegistration = z.infer<typeof WebAuthnRegistration>;

/** The challenge an approval's assertion signs: base64url(SHA-256(UTF-8(dig "." jti "." exp))). */
export function presenceChallenge(binding: { dig: string; jti: string; exp: number }): Promise<string> {
  return sha256Base64url(`${binding.dig}.${binding.jti}.${binding.exp}`);
}

/**
 * The challenge of the credential registered with a device key at enrollment, binding the credential
 * to that key: base64url(SHA-256(UTF-8("countersign-enroll." kid))).
 */
export function enrollmentChallenge(kid: string): Promise<string> {
  return sha256Base64url(`countersign-enroll.${kid}`);
}

/** An assertion's or registration's clientDataJSON (base64url) as the JSON object it is, or undefined when it is none. */
export function clientDataOf(cd: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64urlStrict(cd);
  const text = bytes && decodeUtf8Strict(bytes);
  if (text === undefined) return undefined;
  try {
    const data: unknown = JSON.parse(text);
    return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Returns the parsed clientDataJSON's challenge, or undefined when it is not one (a local sanity check; the verifier decides). */
export function assertionChallenge(assertion: WebAuthnAssertion): string | undefined {
  const challenge = clientDataOf(assertion.cd)?.challenge;
  return typeof challenge === 'string' ? challenge : undefined;
}
