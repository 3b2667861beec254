// Loads the test vectors copied unchanged from shared/vectors into test/vectors. Node only (tests).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const VECTORS_DIR = fileURLToPath(new URL('../vectors/', import.meta.url));

export function readVector<T = unknown>(relativePath: string): T {
  return JSON.parse(readFileSync(VECTORS_DIR + relativePath, 'utf8')) as T;
}

/** The integers from `from` to `to`, both included (ranges of Wycheproof tcIds). */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The tcIds of wycheproof/json_web_signature_test.json's ES256 cases: 18–32, 354, 356, 378–401. */
export const ES256_JWS_TCIDS: ReadonlySet<number> = new Set([...range(18, 32), 354, 356, ...range(378, 401)]);

export function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
