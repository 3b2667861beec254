// The primitives lib/protocol computes with — SHA-256, ES256 signing and checking on 64-byte P1363
// signatures, random bytes and base64url — behind one switch: Web Crypto by default (browsers, workers, any runtime), or what
// a runtime installs for itself (the verifier: synchronous node:crypto, off the thread pool).
// Runtime-neutral: nothing here names a runtime's own module.
import { base64url } from 'jose';

export interface ProtocolCrypto {
  /** Names the backend in benchmarks and errors. */
  readonly name: string;
  sha256(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** True when `signature` (P1363 r‖s) verifies `data` under the P-256 public `key`; may throw on a bad key. */
  verifyEs256(key: CryptoKey, data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean>;
  /** The P1363 signature of `data` under the P-256 private `key`. */
  signEs256(key: CryptoKey, data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** `n` bytes from the CSPRNG, never handed out twice. */
  randomBytes(n: number): Uint8Array;
  /** Unpadded base64url of `bytes`. */
  base64urlEncode(bytes: Uint8Array): string;
  /** The bytes of base64url `s`, which the caller has already checked is canonical (encoding.ts). */
  base64urlDecode(s: string): Uint8Array;
}

export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

export const WEB_CRYPTO: ProtocolCrypto = {
  name: 'webcrypto',
  async sha256(data) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
  },
  verifyEs256(key, data, signature) {
    return crypto.subtle.verify(ECDSA_SHA256, key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>);
  },
  async signEs256(key, data) {
    return new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, key, data as Uint8Array<ArrayBuffer>));
  },
  randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
  base64urlEncode: (bytes) => base64url.encode(bytes),
  base64urlDecode: (s) => base64url.decode(s),
};

let current: ProtocolCrypto = WEB_CRYPTO;

/** Makes `backend` the one every later digest, signature and check uses (the verifier calls it once, at start). */
export function useProtocolCrypto(backend: ProtocolCrypto): void {
  current = backend;
}

export function protocolCrypto(): ProtocolCrypto {
  return current;
}

/**
 * Whether `key` may do `usage` as an ES256 key: what Web Crypto checks itself before it signs or
 * verifies, for a backend that would not (a key imported for signing must not verify, nor one for HMAC).
 */
export function isEs256Key(key: CryptoKey, usage: 'sign' | 'verify'): boolean {
  const algorithm = key.algorithm as { name: string; namedCurve?: string };
  return algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256' && key.usages.includes(usage) && key.type === (usage === 'sign' ? 'private' : 'public');
}
