// A software WebAuthn authenticator for Node tests: registers an ES256 credential (attestation "none")
// and makes assertions whose every field a test can bend (flags, counter, type, origin, RP id,
// challenge, signing key, credential id). Node only (tests).
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { EXTENSION_ID } from '../../lib/extension-identity';
import { enrollmentChallenge, jwkThumbprint, presenceChallenge } from '../../lib/protocol';
import type { Es256PublicJwk, WebAuthnAssertion, WebAuthnRegistration } from '../../lib/protocol';

/** The verifier's default accepted extension origin. */
export const EXTENSION_ORIGIN = `chrome-extension://${EXTENSION_ID}`;
/**
 * The RP id the test worlds register for: the whole origin, whose SHA-256 is what Chromium puts in an
 * extension page's rpIdHash (recorded in test/fixtures/webauthn/chromium-extension.json).
 */
export const EXTENSION_RP_ID = EXTENSION_ORIGIN;

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

/** What a single ceremony may bend; anything left out is what an honest authenticator would send. */
export interface CeremonyOverrides {
  /** User present flag (default true). */
  up?: boolean;
  /** User verified flag (default true). */
  uv?: boolean;
  /** clientDataJSON `type` (default webauthn.get for assertions, webauthn.create for registration). */
  type?: string;
  /** clientDataJSON `origin`. */
  origin?: string;
  /** The RP id whose SHA-256 is authenticatorData's rpIdHash. */
  rpId?: string;
  /** clientDataJSON `challenge`, replacing the one the ceremony was asked for. */
  challenge?: string;
  /** The sign count in authenticatorData; for assertions, the authenticator's counter is left alone. */
  counter?: number;
  /** Signs with this key instead of the credential's (a forger's key). */
  signingKey?: KeyObject;
  /** Reports this credential id instead of the credential's own. */
  credentialId?: string;
  /** clientDataJSON `crossOrigin` (default false). */
  crossOrigin?: boolean;
  /** clientDataJSON `topOrigin`: the page a cross-origin frame sat in (absent by default). */
  topOrigin?: string;
}

export interface RegistrationOverrides extends CeremonyOverrides {
  /** The COSE `alg` the credential key claims (default -7, ES256). */
  alg?: number;
  /** The attestation statement format (default "none"). */
  fmt?: string;
}

export interface SoftAuthenticator {
  readonly credentialId: string;
  readonly origin: string;
  readonly rpId: string;
  /** The sign count the next assertion will carry minus one (0 before the first). */
  counter: number;
  /** The credential's public key, COSE EC2 (CBOR), as the registration carries it. */
  readonly cosePublicKey: Uint8Array;
  /** A registration response over `challenge` (base64url), as PublicKeyCredential.toJSON() gives it. */
  register(challenge: string, overrides?: RegistrationOverrides): WebAuthnRegistration;
  /** An assertion over presenceChallenge(binding), or over `challenge` when given a string. */
  assert(binding: { dig: string; jti: string; exp: number } | string, overrides?: CeremonyOverrides): Promise<WebAuthnAssertion>;
  /** Another authenticator holding the same credential (id and key) with its own copy of the counter: a clone. */
  clone(): SoftAuthenticator;
}

export interface AuthenticatorOptions {
  origin?: string;
  rpId?: string;
  /** 'increment' (default): each assertion's count is one more; 'zero': an authenticator that keeps no counter. */
  counting?: 'increment' | 'zero';
}

/** A fresh P-256 key, for assertions signed by a key other than the credential's. */
export function otherSigningKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

export function createAuthenticator(options: AuthenticatorOptions = {}): SoftAuthenticator {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return makeAuthenticator({
    privateKey,
    x: Buffer.from(jwk.x!, 'base64url'),
    y: Buffer.from(jwk.y!, 'base64url'),
    credentialId: randomBytes(32).toString('base64url'),
    origin: options.origin ?? EXTENSION_ORIGIN,
    rpId: options.rpId ?? EXTENSION_RP_ID,
    counting: options.counting ?? 'increment',
    counter: 0,
  });
}

interface Credential {
  privateKey: KeyObject;
  x: Buffer;
  y: Buffer;
  credentialId: string;
  origin: string;
  rpId: string;
  counting: 'increment' | 'zero';
  counter: number;
}

function coseKey(x: Buffer, y: Buffer, alg: number): Uint8Array {
  // kty EC2 (2), alg, crv P-256 (1), x, y: the labels of RFC 9053 §7.1.1.
  return isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, alg],
      [-1, 1],
      [-2, new Uint8Array(x)],
      [-3, new Uint8Array(y)],
    ]),
  );
}

function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function authenticatorData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter >>> 0);
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
}

function flagsOf(o: CeremonyOverrides, extra = 0): number {
  return ((o.up ?? true) ? FLAG_UP : 0) | ((o.uv ?? true) ? FLAG_UV : 0) | extra;
}

function clientData(type: string, challenge: string, origin: string, o: CeremonyOverrides): Buffer {
  const framed = o.topOrigin !== undefined ? { topOrigin: o.topOrigin } : {};
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: o.crossOrigin ?? false, ...framed }), 'utf8');
}

function makeAuthenticator(c: Credential): SoftAuthenticator {
  const publicCose = coseKey(c.x, c.y, -7);
  const auth: SoftAuthenticator = {
    credentialId: c.credentialId,
    origin: c.origin,
    rpId: c.rpId,
    get counter() {
      return c.counter;
    },
    set counter(n: number) {
      c.counter = n;
    },
    cosePublicKey: publicCose,
    register(challenge, o = {}) {
      const id = Buffer.from(o.credentialId ?? c.credentialId, 'base64url');
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(id.length);
      const attested = Buffer.concat([Buffer.alloc(16), idLength, id, Buffer.from(coseKey(c.x, c.y, o.alg ?? -7))]);
      const ad = authenticatorData(o.rpId ?? c.rpId, flagsOf(o, FLAG_AT), o.counter ?? 0, attested);
      const cd = clientData(o.type ?? 'webauthn.create', o.challenge ?? challenge, o.origin ?? c.origin, o);
      const attStmt = new Map<string, Uint8Array | number>();
      if (o.fmt && o.fmt !== 'none') {
        // A "packed" self-attestation: signed with the credential key over authData || hash(clientData).
        attStmt.set('alg', -7);
        attStmt.set('sig', new Uint8Array(sign('sha256', Buffer.concat([ad, sha256(cd)]), { key: o.signingKey ?? c.privateKey, dsaEncoding: 'der' })));
      }
      const attestationObject = isoCBOR.encode(
        new Map<string, string | Uint8Array | Map<string, Uint8Array | number>>([
          ['fmt', o.fmt ?? 'none'],
          ['attStmt', attStmt],
          ['authData', new Uint8Array(ad)],
        ]),
      );
      const credentialId = id.toString('base64url');
      return {
        id: credentialId,
        rawId: credentialId,
        type: 'public-key',
        response: {
          attestationObject: Buffer.from(attestationObject).toString('base64url'),
          clientDataJSON: cd.toString('base64url'),
          transports: ['internal'],
        },
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
      };
    },
    async assert(binding, o = {}) {
      const challenge = o.challenge ?? (typeof binding === 'string' ? binding : await presenceChallenge(binding));
      let counter: number;
      if (o.counter !== undefined) counter = o.counter;
      else if (c.counting === 'zero') counter = 0;
      else counter = ++c.counter;
      const ad = authenticatorData(o.rpId ?? c.rpId, flagsOf(o), counter);
      const cd = clientData(o.type ?? 'webauthn.get', challenge, o.origin ?? c.origin, o);
      const sig = sign('sha256', Buffer.concat([ad, sha256(cd)]), { key: o.signingKey ?? c.privateKey, dsaEncoding: 'der' });
      return { id: o.credentialId ?? c.credentialId, ad: ad.toString('base64url'), cd: cd.toString('base64url'), sig: sig.toString('base64url') };
    },
    clone() {
      return makeAuthenticator({ ...c });
    },
  };
  return auth;
}

/** The part of an assertion with one bit flipped (a tamperer's edit), still base64url. */
export function flipBit(value: string, byte = -1): string {
  const bytes = Buffer.from(value, 'base64url');
  const i = byte < 0 ? bytes.length + byte : byte;
  bytes[i] = bytes[i]! ^ 0x01;
  return bytes.toString('base64url');
}

/** A new authenticator and its credential registered over enrollmentChallenge(kid of `jwk`): what the options page sends at enrollment. */
export async function registerCredential(jwk: Es256PublicJwk, options: AuthenticatorOptions = {}): Promise<{ authenticator: SoftAuthenticator; credential: WebAuthnRegistration }> {
  const authenticator = createAuthenticator(options);
  return { authenticator, credential: authenticator.register(await enrollmentChallenge(await jwkThumbprint(jwk))) };
}
