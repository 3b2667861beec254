// Node 20 has CryptoKey and CryptoKeyPair as globals at run time; @types/node does not declare them
// as global types, and server code takes no DOM lib. lib/protocol names them, so declare them here.
import type { webcrypto } from 'node:crypto';

declare global {
  type CryptoKey = webcrypto.CryptoKey;
  type CryptoKeyPair = webcrypto.CryptoKeyPair;
  type JsonWebKey = webcrypto.JsonWebKey;
}

export {};
