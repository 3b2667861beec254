// The verifier's WebAuthn checks (server/presence.ts): an enrollment's credential and an approval's assertion, with assertions recorded from real Chromium and bent ones from the software authenticator; every failed check is refused and says which.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadInvalid, TokenRejected, actionDigest, enrollmentChallenge, exportEs256PublicJwk, generateEs256KeyPair, jwkThumbprint } from '../../lib/protocol';
import type { ActionRequest, WebAuthnAssertion, WebAuthnRegistration } from '../../lib/protocol';
import { checkAssertion, isStrictDerEcdsa, rpIdsOf, verifyEnrollmentCredential } from '../../server/presence';
import type { PresenceCredential } from '../../server/presence';
import { EXTENSION_ID } from '../../lib/extension-identity';
import { EXTENSION_ORIGIN, createAuthenticator, flipBit, otherSigningKey } from '../helpers/webauthn';
import type { SoftAuthenticator } from '../helpers/webauthn';

interface RecordedAssertion {
  binding: { dig: string; jti: string; exp: number };
  challenge: string;
  counter: number;
  up: boolean;
  uv: boolean;
  wa: WebAuthnAssertion;
}
interface Recording {
  origin: string;
  rpId: string;
  rpIdGiven: string;
  device: { kid: string; enrollmentChallenge: string };
  registration: WebAuthnRegistration;
  request: ActionRequest;
  assertions: { uv: RecordedAssertion; uvNext: RecordedAssertion; noUv: RecordedAssertion };
}

const recorded = JSON.parse(readFileSync(new URL('../fixtures/webauthn/chromium-extension.json', import.meta.url), 'utf8')) as Recording;
const ORIGINS = [EXTENSION_ORIGIN];

async function refusal(p: Promise<unknown>): Promise<TokenRejected | PayloadInvalid> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TokenRejected || e instanceof PayloadInvalid) return e;
    throw e;
  }
  throw new Error('accepted');
}

async function newKid(): Promise<string> {
  return jwkThumbprint(await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey));
}

/** A software credential registered and pinned as the verifier would pin it. */
async function enrolled(options: Parameters<typeof createAuthenticator>[0] = {}): Promise<{ auth: SoftAuthenticator; credential: PresenceCredential }> {
  const auth = createAuthenticator(options);
  const kid = await newKid();
  const credential = await verifyEnrollmentCredential(auth.register(await enrollmentChallenge(kid)), kid, ORIGINS);
  return { auth, credential };
}

const BINDING = { digest: 'nH-ciRWHlSyOLjBwG24N7pR-yTwnX681RGc11YmRV90', jti: 'jti-0000000000000001', exp: 1_800_000_120 };
const asBinding = (b: typeof BINDING) => ({ dig: b.digest, jti: b.jti, exp: b.exp });

describe('the recorded Chromium ceremony', () => {
  it('the recorded request digests to the recorded binding, and the recording is for this extension', async () => {
    expect(await actionDigest(recorded.request)).toBe(recorded.assertions.uv.binding.dig);
    expect(recorded.origin).toBe(EXTENSION_ORIGIN);
    expect(recorded.device.enrollmentChallenge).toBe(await enrollmentChallenge(recorded.device.kid));
  });

  it('registration verifies and pins the origin and the RP id Chromium hashed (the whole origin)', async () => {
    const pinned = await verifyEnrollmentCredential(recorded.registration, recorded.device.kid, ORIGINS);
    expect(pinned).toMatchObject({ credentialId: recorded.registration.id, origin: EXTENSION_ORIGIN, rpId: recorded.rpId, signCount: 1 });
  });

  it('a user-verified assertion is accepted, with its sign count', async () => {
    const pinned = await verifyEnrollmentCredential(recorded.registration, recorded.device.kid, ORIGINS);
    for (const a of [recorded.assertions.uv, recorded.assertions.uvNext]) {
      expect(await checkAssertion(a.wa, { digest: a.binding.dig, jti: a.binding.jti, exp: a.binding.exp }, pinned)).toEqual({ signCount: a.counter });
    }
  });

  it('attack: an assertion made with user verification off (UP only) → presence_invalid', async () => {
    const pinned = await verifyEnrollmentCredential(recorded.registration, recorded.device.kid, ORIGINS);
    const a = recorded.assertions.noUv;
    expect(a.uv).toBe(false);
    const e = await refusal(checkAssertion(a.wa, { digest: a.binding.dig, jti: a.binding.jti, exp: a.binding.exp }, pinned));
    expect(e).toMatchObject({ code: 'presence_invalid' });
  });

  it.each([
    ['another action (digest)', { dig: 'A'.repeat(43) }],
    ['another token id (jti)', { jti: 'fixture-jti-0000000000009' }],
    ['another expiry (exp)', { exp: recorded.assertions.uv.binding.exp + 1 }],
  ])('attack: the recorded assertion replayed for %s → presence_invalid', async (_what, change) => {
    const pinned = await verifyEnrollmentCredential(recorded.registration, recorded.device.kid, ORIGINS);
    const b = { ...recorded.assertions.uv.binding, ...change };
    const e = await refusal(checkAssertion(recorded.assertions.uv.wa, { digest: b.dig, jti: b.jti, exp: b.exp }, pinned));
    expect(e).toMatchObject({ code: 'presence_invalid' });
    expect(e.message).toMatch(/challenge/i);
  });

  it('attack: the recorded registration presented with another device key (kid) → payload_invalid naming credential', async () => {
    const e = await refusal(verifyEnrollmentCredential(recorded.registration, await newKid(), ORIGINS));
    expect(e).toBeInstanceOf(PayloadInvalid);
    expect((e as PayloadInvalid).field).toBe('credential');
  });

  it('attack: a verifier that pins the bare extension id as RP id would refuse Chromium\'s assertion (the pin is the one that matched)', async () => {
    const pinned = await verifyEnrollmentCredential(recorded.registration, recorded.device.kid, ORIGINS);
    const a = recorded.assertions.uv;
    const e = await refusal(checkAssertion(a.wa, { digest: a.binding.dig, jti: a.binding.jti, exp: a.binding.exp }, { ...pinned, rpId: recorded.rpIdGiven }));
    expect(e).toMatchObject({ code: 'presence_invalid' });
  });
});

describe('verifyEnrollmentCredential', () => {
  it('accepts a credential over enrollmentChallenge(kid) whose RP id is the extension id or the whole origin, and pins it', async () => {
    expect(rpIdsOf(EXTENSION_ORIGIN)).toEqual([EXTENSION_ID, EXTENSION_ORIGIN]);
    for (const rpId of [EXTENSION_ID, EXTENSION_ORIGIN]) {
      const { auth, credential } = await enrolled({ rpId });
      expect(credential).toMatchObject({ credentialId: auth.credentialId, origin: EXTENSION_ORIGIN, rpId, signCount: 0 });
      expect(Buffer.from(credential.publicKey, 'base64url')).toEqual(Buffer.from(auth.cosePublicKey));
    }
  });

  const bent: [string, Parameters<SoftAuthenticator['register']>[1]][] = [
    ['user verification off', { uv: false }],
    ['user presence off', { up: false }],
    ['an assertion type (webauthn.get)', { type: 'webauthn.get' }],
    ['a web page\'s origin', { origin: 'https://forum.corp.example' }],
    ['another extension\'s origin', { origin: 'chrome-extension://aaaabbbbccccddddeeeeffffgggghhhh' }],
    ['another RP\'s id hash', { rpId: 'forum.corp.example' }],
    ['a key that is not ES256 (COSE alg -8 claimed)', { alg: -8 }],
    ['a challenge of its own choosing', { challenge: 'Y2hvc2VuLWJ5LXRoZS1wYWdl' }],
    ['a cross-origin ceremony (the options page framed in a web page)', { crossOrigin: true }],
    ['a top origin (framed in a web page)', { crossOrigin: true, topOrigin: 'https://forum.corp.example' }],
  ];
  it.each(bent)('attack: a credential with %s → payload_invalid naming credential', async (_what, overrides) => {
    const kid = await newKid();
    const reg = createAuthenticator().register(await enrollmentChallenge(kid), overrides);
    const e = await refusal(verifyEnrollmentCredential(reg, kid, ORIGINS));
    expect(e).toBeInstanceOf(PayloadInvalid);
    expect((e as PayloadInvalid).field).toBe('credential');
  });

  it('attack: a credential registered for another device key (enrollmentChallenge of another kid) → payload_invalid', async () => {
    const reg = createAuthenticator().register(await enrollmentChallenge(await newKid()));
    const e = await refusal(verifyEnrollmentCredential(reg, await newKid(), ORIGINS));
    expect(e).toBeInstanceOf(PayloadInvalid);
    expect(e.message).toMatch(/challenge/i);
  });

  it('attack: an origin paired with the RP id hash of another accepted origin → payload_invalid', async () => {
    const other = 'chrome-extension://aaaabbbbccccddddeeeeffffgggghhhh';
    const kid = await newKid();
    const reg = createAuthenticator({ origin: EXTENSION_ORIGIN, rpId: other }).register(await enrollmentChallenge(kid));
    const e = await refusal(verifyEnrollmentCredential(reg, kid, [EXTENSION_ORIGIN, other]));
    expect(e).toBeInstanceOf(PayloadInvalid);
  });

  it('a verifier configured with no extension origin accepts no credential, and says why', async () => {
    const kid = await newKid();
    const e = await refusal(verifyEnrollmentCredential(createAuthenticator().register(await enrollmentChallenge(kid)), kid, []));
    expect(e).toBeInstanceOf(PayloadInvalid);
    expect(e.message).toMatch(/COUNTERSIGN_EXTENSION_ORIGINS/);
  });

  it('attack: a bit-flipped attestation object → payload_invalid', async () => {
    const kid = await newKid();
    const reg = createAuthenticator().register(await enrollmentChallenge(kid));
    const flipped = { ...reg, response: { ...reg.response, attestationObject: flipBit(reg.response.attestationObject, 40) } };
    expect(await refusal(verifyEnrollmentCredential(flipped, kid, ORIGINS))).toBeInstanceOf(PayloadInvalid);
  });
});

describe('checkAssertion', () => {
  it('accepts a user-verified assertion over presenceChallenge(dig, jti, exp), from the pinned origin and RP, by the credential', async () => {
    const { auth, credential } = await enrolled();
    expect(await checkAssertion(await auth.assert(asBinding(BINDING)), BINDING, credential)).toEqual({ signCount: 1 });
    expect(await checkAssertion(await auth.assert(asBinding(BINDING)), BINDING, credential)).toEqual({ signCount: 2 });
  });

  it('an authenticator that keeps no counter reports 0 (the count is judged by the store)', async () => {
    const { auth, credential } = await enrolled({ counting: 'zero' });
    expect(await checkAssertion(await auth.assert(asBinding(BINDING)), BINDING, credential)).toEqual({ signCount: 0 });
  });

  const bent: [string, (a: SoftAuthenticator) => Promise<WebAuthnAssertion>][] = [
    ['a registration type (webauthn.create)', (a) => a.assert(asBinding(BINDING), { type: 'webauthn.create' })],
    ['another action\'s challenge (digest)', (a) => a.assert({ ...asBinding(BINDING), dig: 'A'.repeat(43) })],
    ['another token\'s challenge (jti)', (a) => a.assert({ ...asBinding(BINDING), jti: 'jti-0000000000000002' })],
    ['another expiry\'s challenge (exp)', (a) => a.assert({ ...asBinding(BINDING), exp: BINDING.exp + 60 })],
    ['a web page\'s origin', (a) => a.assert(asBinding(BINDING), { origin: 'http://localhost:8081' })],
    ['another RP\'s id hash', (a) => a.assert(asBinding(BINDING), { rpId: 'localhost' })],
    ['the RP id the verifier did not pin (bare id where the origin was pinned)', (a) => a.assert(asBinding(BINDING), { rpId: EXTENSION_ID })],
    ['user presence off', (a) => a.assert(asBinding(BINDING), { up: false })],
    ['user verification off', (a) => a.assert(asBinding(BINDING), { uv: false })],
    ['a signature by another key', (a) => a.assert(asBinding(BINDING), { signingKey: otherSigningKey() })],
    ['another credential id', (a) => a.assert(asBinding(BINDING), { credentialId: createAuthenticator().credentialId })],
    ['a bit flipped in authenticatorData', async (a) => { const wa = await a.assert(asBinding(BINDING)); return { ...wa, ad: flipBit(wa.ad) }; }],
    ['a bit flipped in clientDataJSON', async (a) => { const wa = await a.assert(asBinding(BINDING)); return { ...wa, cd: flipBit(wa.cd, -3) }; }],
    ['a bit flipped in the signature', async (a) => { const wa = await a.assert(asBinding(BINDING)); return { ...wa, sig: flipBit(wa.sig, 10) }; }],
    ['a cross-origin ceremony (an extension page framed in a web page)', (a) => a.assert(asBinding(BINDING), { crossOrigin: true })],
    ['a top origin (framed in a web page)', (a) => a.assert(asBinding(BINDING), { topOrigin: 'https://forum.corp.example' })],
  ];
  it.each(bent)('attack: an assertion with %s → presence_invalid', async (_what, make) => {
    const { auth, credential } = await enrolled();
    const wa = await make(auth);
    const e = await refusal(checkAssertion(wa, BINDING, credential));
    expect(e).toMatchObject({ code: 'presence_invalid' });
    // The refusal says what failed, never the assertion itself.
    for (const part of [wa.ad, wa.cd, wa.sig]) expect(e.message).not.toContain(part);
  });

  it('attack: an assertion by another enrolled credential (another person\'s authenticator) → presence_invalid', async () => {
    const mine = await enrolled();
    const theirs = await enrolled();
    const e = await refusal(checkAssertion(await theirs.auth.assert(asBinding(BINDING)), BINDING, mine.credential));
    expect(e).toMatchObject({ code: 'presence_invalid' });
  });

  it('attack: another spelling of a genuine signature (bytes after the DER sequence, a padded integer) → presence_invalid', async () => {
    const { auth, credential } = await enrolled();
    const wa = await auth.assert(asBinding(BINDING));
    const der = Buffer.from(wa.sig, 'base64url');
    const trailing = Buffer.concat([der, Buffer.from([0])]);
    // r as one byte longer with a needless leading zero (the lengths adjusted): same number, not minimal.
    const rLen = der[3]!;
    const padded = Buffer.concat([Buffer.from([0x30, der[1]! + 1, 0x02, rLen + 1, 0x00]), der.subarray(4)]);
    for (const sig of [trailing, padded]) {
      const e = await refusal(checkAssertion({ ...wa, sig: sig.toString('base64url') }, BINDING, credential));
      expect(e).toMatchObject({ code: 'presence_invalid' });
    }
    expect(await checkAssertion(wa, BINDING, credential)).toEqual({ signCount: 1 });
  });

  it('isStrictDerEcdsa: one SEQUENCE of two minimal positive INTEGERs, nothing after', () => {
    const int = (bytes: number[]) => [0x02, bytes.length, ...bytes];
    const seq = (...parts: number[][]) => Uint8Array.from([0x30, parts.flat().length, ...parts.flat()]);
    expect(isStrictDerEcdsa(seq(int([1, 2, 3]), int([4, 5, 6])))).toBe(true);
    expect(isStrictDerEcdsa(seq(int([0x00, 0x80, 1]), int([4, 5, 6])))).toBe(true);
    expect(isStrictDerEcdsa(seq(int([0x00, 0x01, 1]), int([4, 5, 6])))).toBe(false);
    expect(isStrictDerEcdsa(seq(int([0x80, 1, 1]), int([4, 5, 6])))).toBe(false);
    expect(isStrictDerEcdsa(Uint8Array.from([...seq(int([1, 2, 3]), int([4, 5, 6])), 0]))).toBe(false);
    expect(isStrictDerEcdsa(seq(int([1, 2, 3])))).toBe(false);
    expect(isStrictDerEcdsa(seq(int([1, 2, 3]), int([4, 5, 6]), int([7])))).toBe(false);
  });

  it('a stored credential that cannot be read fails closed → presence_invalid', async () => {
    const { auth, credential } = await enrolled();
    const e = await refusal(checkAssertion(await auth.assert(asBinding(BINDING)), BINDING, { ...credential, publicKey: 'not=base64url' }));
    expect(e).toMatchObject({ code: 'presence_invalid' });
  });
});
