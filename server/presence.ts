// User presence checks with @simplewebauthn/server: the credential an enrollment registers, and the
// assertion an approval carries in `wa` (DESIGN.md, "User presence"). No I/O. Node only.
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { WebAuthnAssertion, WebAuthnRegistration } from '../lib/protocol';
import { PayloadInvalid, TokenRejected, clientDataOf, decodeBase64urlStrict, encodeBase64url, enrollmentChallenge, presenceChallenge } from '../lib/protocol';

/** ES256: the one algorithm a device credential may use (COSE -7). */
const ES256 = -7;

/** A device's credential as the verifier keeps it. */
export interface PresenceCredential {
  credentialId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  signCount: number;
  /** The extension origin pinned at enrollment. */
  origin: string;
  /** The RP id whose SHA-256 is the credential's rpIdHash. */
  rpId: string;
}

/** The RP ids an extension origin may have registered under: its host (the extension id), or — as Chromium does for extensions — the whole origin. */
export function rpIdsOf(origin: string): string[] {
  const host = new URL(origin).host;
  return host === '' ? [origin] : [host, origin];
}

/**
 * Verifies the credential registered with a device key at enrollment: over enrollmentChallenge(kid),
 * from one of `origins`, user-verified, ES256. Returns what is pinned. Throws `payload_invalid`
 * naming `credential` and why.
 */
export async function verifyEnrollmentCredential(credential: WebAuthnRegistration, kid: string, origins: readonly string[]): Promise<PresenceCredential> {
  const invalid = (why: string) => new PayloadInvalid(why, 'credential');
  if (origins.length === 0) throw invalid('this verifier accepts no extension origin (COUNTERSIGN_EXTENSION_ORIGINS is empty)');
  let result: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    result = await verifyRegistrationResponse({
      // Only what is verified goes to the library: transports and the like are the client's hints.
      response: {
        id: credential.id,
        rawId: credential.rawId,
        type: 'public-key',
        response: { attestationObject: credential.response.attestationObject, clientDataJSON: credential.response.clientDataJSON },
        clientExtensionResults: {},
      },
      expectedChallenge: await enrollmentChallenge(kid),
      expectedOrigin: [...origins],
      expectedRPID: origins.flatMap(rpIdsOf),
      expectedType: 'webauthn.create',
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: [ES256],
    });
  } catch (error) {
    throw invalid(libraryReason(error));
  }
  if (!result.verified) throw invalid('the registration did not verify');
  if (framed(credential.response.clientDataJSON)) throw invalid('the registration was made in a frame inside another page');
  const info = result.registrationInfo;
  const rpId = info.rpID;
  // The pinned pair must belong together: the rpIdHash of this origin, not another accepted one's.
  if (rpId === undefined || !rpIdsOf(info.origin).includes(rpId)) throw invalid('the RP id does not belong to the origin');
  return { credentialId: info.credential.id, publicKey: encodeBase64url(info.credential.publicKey), signCount: info.credential.counter, origin: info.origin, rpId };
}

/**
 * Checks an approval's assertion against the device's credential: type `webauthn.get`, the
 * challenge recomputed from the request received (`digest`) and the token's jti and exp, the pinned
 * origin and RP id, UP and UV, and the signature. Returns the assertion's sign count; the caller
 * judges it against the stored one (it needs the database). Throws `presence_invalid`.
 */
export async function checkAssertion(wa: WebAuthnAssertion, binding: { digest: string; jti: string; exp: number }, credential: PresenceCredential): Promise<{ signCount: number }> {
  const invalid = (why: string) => new TokenRejected('presence_invalid', `the presence assertion ${why}`);
  if (wa.id !== credential.credentialId) throw invalid('is by another credential than this device\'s');
  const signature = decodeBase64urlStrict(wa.sig);
  if (!signature || !isStrictDerEcdsa(signature)) throw invalid('has a signature that is not one strict DER ECDSA signature');
  const publicKey = decodeBase64urlStrict(credential.publicKey);
  if (!publicKey) throw invalid('cannot be checked: the stored credential is unreadable');
  let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    result = await verifyAuthenticationResponse({
      response: { id: wa.id, rawId: wa.id, type: 'public-key', response: { authenticatorData: wa.ad, clientDataJSON: wa.cd, signature: wa.sig }, clientExtensionResults: {} },
      expectedChallenge: await presenceChallenge({ dig: binding.digest, jti: binding.jti, exp: binding.exp }),
      expectedOrigin: credential.origin,
      expectedRPID: credential.rpId,
      expectedType: 'webauthn.get',
      // The count is judged by the caller against the stored one, atomically with advancing it.
      credential: { id: credential.credentialId, publicKey: publicKey as Uint8Array<ArrayBuffer>, counter: 0 },
      requireUserVerification: true,
    });
  } catch (error) {
    throw invalid(`fails a check: ${libraryReason(error)}`);
  }
  if (!result.verified) throw invalid('has a signature that does not verify with the enrolled credential');
  if (!result.authenticationInfo.userVerified) throw invalid('is not user-verified');
  if (framed(wa.cd)) throw invalid('was made in a frame inside another page');
  return { signCount: result.authenticationInfo.newCounter };
}

/**
 * An ECDSA P-256 signature in WebAuthn's encoding, strictly: one DER SEQUENCE of two minimal positive
 * INTEGERs and nothing after it. Lenient parsers accept trailing bytes and padded integers: other
 * spellings of one signature, never to be taken as distinct.
 */
export function isStrictDerEcdsa(sig: Uint8Array): boolean {
  if (sig.length < 8 || sig.length > 72 || sig[0] !== 0x30 || sig[1] !== sig.length - 2) return false;
  let at = 2;
  for (let n = 0; n < 2; n++) {
    const len = sig[at + 1];
    if (sig[at] !== 0x02 || len === undefined || len < 1 || len > 33) return false;
    const start = at + 2;
    if (start + len > sig.length) return false;
    const first = sig[start]!;
    // Positive, and minimal: a leading zero only where the next byte's top bit would make it negative.
    if (first & 0x80) return false;
    if (len > 1 && first === 0 && !(sig[start + 1]! & 0x80)) return false;
    at = start + len;
  }
  return at === sig.length;
}

/**
 * True when clientDataJSON says the ceremony ran in a frame of another origin (`crossOrigin`, or a
 * `topOrigin`): an extension page framed inside a web page, where the page could have put the click
 * in front of the person. The library does not check it.
 */
function framed(clientDataJSON: string): boolean {
  const data = clientDataOf(clientDataJSON);
  return data === undefined || data.crossOrigin === true || data.topOrigin !== undefined;
}

/** The library's reason, short and on one line (it may quote an origin or challenge the client sent: never a token). */
function libraryReason(error: unknown): string {
  const message = error instanceof Error ? error.message : 'it could not be read';
  return message.replace(/[\p{Cc}\u2028\u2029]/gu, ' ').slice(0, 200);
}
