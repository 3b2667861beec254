// Random identifiers and one-time codes of the verifier. Node only.
import { randomBytes, randomUUID } from 'node:crypto';

/**
 * `prefix_` + a random (version 4) UUID: 122 random bits. Node draws them from the CSPRNG in
 * blocks it keeps (randomUUID's entropy cache), one call per many ids, and never reuses them.
 */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID()}`;
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
