// The verifier's protocol crypto: synchronous node:crypto (OpenSSL on the calling thread) instead of
// Web Crypto's thread-pool jobs, for the hash, the token check and the receipt signature of every
// request. Same inputs, same answers (test/server/node-crypto.test.ts runs Wycheproof through both).
// Node only.
import { createHash, KeyObject, randomFillSync, sign, verify } from 'node:crypto';
import { isEs256Key, useProtocolCrypto } from '../lib/protocol/crypto-backend';
import type { ProtocolCrypto } from '../lib/protocol/crypto-backend';

const keys = new WeakMap<CryptoKey, KeyObject>();

/** The KeyObject behind a Web Crypto key, made once per key (converting costs little; it adds up). */
function keyObject(key: CryptoKey): KeyObject {
  let object = keys.get(key);
  if (!object) {
    object = KeyObject.from(key);
    keys.set(key, object);
  }
  return object;
}

/** Random bytes drawn from the CSPRNG a block at a time (one call per many ids), each byte handed out once. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let taken = 0;

function pooledRandomBytes(n: number): Uint8Array {
  if (n > POOL_BYTES) return new Uint8Array(randomFillSync(Buffer.alloc(n)));
  if (taken + n > pool.length) {
    // A fresh block, never the old one refilled: bytes already handed out are views of it.
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    taken = 0;
  }
  const bytes = new Uint8Array(pool.buffer, pool.byteOffset + taken, n);
  taken += n;
  return bytes;
}

export const NODE_CRYPTO: ProtocolCrypto = {
  name: 'node:crypto',
  sha256(data) {
    return new Uint8Array(createHash('sha256').update(data).digest());
  },
  verifyEs256(key, data, signature) {
    // Web Crypto refuses a key of another kind or usage by throwing; so does this.
    if (!isEs256Key(key, 'verify')) throw new TypeError('not an ES256 verification key');
    return verify('sha256', data, { key: keyObject(key), dsaEncoding: 'ieee-p1363' }, signature);
  },
  signEs256(key, data) {
    if (!isEs256Key(key, 'sign')) throw new TypeError('not an ES256 signing key');
    return new Uint8Array(sign('sha256', data, { key: keyObject(key), dsaEncoding: 'ieee-p1363' }));
  },
  randomBytes: pooledRandomBytes,
  base64urlEncode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url'),
  // Buffer's decoder is lenient, but only canonical base64url gets here (encoding.ts checks first).
  base64urlDecode: (s) => {
    const b = Buffer.from(s, 'base64url');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
};

/** Installs NODE_CRYPTO for lib/protocol in this process (idempotent). */
export function useNodeCrypto(): void {
  useProtocolCrypto(NODE_CRYPTO);
}
