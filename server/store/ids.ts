// Random identifiers and one-time codes of the verifier. Node only.
import { randomBytes } from 'node:crypto';

/** Random bytes drawn from the CSPRNG in blocks: one call per 512 ids instead of one per id. */
const POOL_BYTES = 12 * 512;
let pool = Buffer.alloc(0);
let used = POOL_BYTES;

/** `prefix_` + 96 random bits, base64url. Every id gets its own fresh bytes (the pool is never reused). */
export function newId(prefix: string): string {
  if (used + 12 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  const id = pool.toString('base64url', used, used + 12);
  used += 12;
  return `${prefix}_${id}`;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A one-time enrollment code a person can type: 4 groups of 4 base32 characters (80 bits). */
export function newEnrollmentCode(): string {
  const bytes = randomBytes(16);
  let out = '';
  for (let i = 0; i < 16; i++) out += CROCKFORD[bytes[i]! & 31];
  return out.match(/.{4}/g)!.join('-');
}

/** Codes compare without case or dashes, as people type them. */
export function normaliseEnrollmentCode(code: string): string {
  return code.toUpperCase().replace(/[^0-9A-Z]/g, '');
}
