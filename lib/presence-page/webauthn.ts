// WebAuthn in the extension's own pages (DESIGN.md, "User presence"), through @simplewebauthn/browser:
// the options page registers the device's credential (ES256, user verification required) over the
// challenge the background gives for the device key; the popup asserts the person's presence over one
// approval's challenge. What a failure means, in plain words. Extension page only (options, popup):
// never a content script or a web page, whose origin would not be the extension's.
import { WebAuthnError, bufferToBase64URLString, startAuthentication, startRegistration } from '@simplewebauthn/browser';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import type { WebAuthnAssertion, WebAuthnRegistration } from '@/lib/protocol/presence';

/** How long the browser waits for the person (ms). */
export const WEBAUTHN_TIMEOUT_MS = 120_000;

/** What create() is asked: ES256 only, user verification required, no resident key, no attestation; the RP is this extension (its host). */
export function registrationOptions(input: { challenge: string; label: string; rpId: string; userId: string }): PublicKeyCredentialCreationOptionsJSON {
  return {
    rp: { name: 'Countersign', id: input.rpId },
    user: { id: input.userId, name: input.label, displayName: input.label },
    challenge: input.challenge,
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    authenticatorSelection: { userVerification: 'required', residentKey: 'discouraged' },
    attestation: 'none',
    timeout: WEBAUTHN_TIMEOUT_MS,
  };
}

/** What get() is asked: the device's one credential, user verification required, over the approval's challenge. */
export function assertionOptions(input: { challenge: string; rpId: string; credentialId: string }): PublicKeyCredentialRequestOptionsJSON {
  return {
    challenge: input.challenge,
    rpId: input.rpId,
    allowCredentials: [{ id: input.credentialId, type: 'public-key' }],
    userVerification: 'required',
    timeout: WEBAUTHN_TIMEOUT_MS,
  };
}

/** The RP id of this page: the extension's host (its id in Chrome). */
export function pageRpId(): string {
  return globalThis.location.hostname;
}

/** Registers the device's credential over `challenge` (enrollmentChallenge of the device key); the RP id it used goes to enrollment with it. */
export async function registerCredential(input: { challenge: string; label: string }): Promise<{ credential: WebAuthnRegistration; rpId: string }> {
  const rpId = pageRpId();
  const userId = bufferToBase64URLString(crypto.getRandomValues(new Uint8Array(16)).buffer);
  const response = await startRegistration({ optionsJSON: registrationOptions({ challenge: input.challenge, label: input.label, rpId, userId }) });
  const credential: WebAuthnRegistration = {
    id: response.id,
    rawId: response.rawId,
    type: 'public-key',
    response: {
      attestationObject: response.response.attestationObject,
      clientDataJSON: response.response.clientDataJSON,
      ...(response.response.transports ? { transports: response.response.transports } : {}),
      ...(response.response.publicKeyAlgorithm !== undefined ? { publicKeyAlgorithm: response.response.publicKeyAlgorithm } : {}),
      ...(response.response.publicKey ? { publicKey: response.response.publicKey } : {}),
      ...(response.response.authenticatorData ? { authenticatorData: response.response.authenticatorData } : {}),
    },
    ...(response.authenticatorAttachment ? { authenticatorAttachment: response.authenticatorAttachment } : {}),
    clientExtensionResults: { ...response.clientExtensionResults },
  };
  return { credential, rpId };
}

/** The person's assertion over one approval's challenge, as the token's `wa` carries it. */
export async function assertPresence(input: { challenge: string; rpId: string; credentialId: string }): Promise<WebAuthnAssertion> {
  const response = await startAuthentication({ optionsJSON: assertionOptions(input) });
  return { id: response.id, ad: response.response.authenticatorData, cd: response.response.clientDataJSON, sig: response.response.signature };
}

/** Why create() or get() gave nothing, for the person: cancelled or timed out, no authenticator, or no WebAuthn here. */
export function webAuthnFailure(error: unknown, during: 'register' | 'assert'): string {
  const cause = error instanceof WebAuthnError && error.cause instanceof Error ? error.cause : error;
  const name = cause instanceof Error ? cause.name : '';
  const what = during === 'register' ? 'The authenticator was not registered' : 'Your presence was not confirmed';
  const after = during === 'register' ? '' : ' Nothing was signed: the action stays as it was, and you may try again.';
  if (error instanceof Error && /not supported in this browser/i.test(error.message)) return `${what}: this browser offers no WebAuthn here.${after}`;
  if (name === 'NotAllowedError' || name === 'AbortError')
    return `${what}: it was cancelled, timed out, or no authenticator could verify you (fingerprint, PIN or security key).${after}`;
  if (name === 'NotSupportedError') return `${what}: no authenticator here supports ES256 with user verification.${after}`;
  if (name === 'SecurityError') return `${what}: the browser does not allow WebAuthn for this extension page.${after}`;
  if (name === 'InvalidStateError') return `${what}: this authenticator is registered already.${after}`;
  return `${what}: ${error instanceof Error ? error.message : 'the browser refused'}.${after}`;
}
