// Device enrollment: one-time codes, key registration, revocation, and the key lookup tokens use. Node only.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { EnrolledKey, Es256PublicJwk, WebAuthnRegistration } from '../../lib/protocol';
import { CountersignError, POLICY_BOT_PREFIX, Es256PublicJwk as Es256PublicJwkSchema, importEs256PublicJwk, jwkThumbprint, minimalJwk } from '../../lib/protocol';
import type { DatabaseHandle } from '../db/connect';
import { DEFAULT_EXTENSION_ORIGINS } from '../config';
import type { Database, DeviceTable } from '../db/schema';
import { verifyEnrollmentCredential } from '../presence';
import { newEnrollmentCode, newId, normaliseEnrollmentCode } from './ids';
import { credentialTaken, insertCredential } from './webauthn-credentials';

export const ENROLLMENT_CODE_TTL_MS = 15 * 60 * 1000;

function codeHash(code: string): string {
  return createHash('sha256').update(normaliseEnrollmentCode(code)).digest('hex');
}

export async function issueEnrollmentCode(db: Kysely<Database>, userId: string, now: number): Promise<{ code: string; expiresAt: number }> {
  const code = newEnrollmentCode();
  const expiresAt = now + ENROLLMENT_CODE_TTL_MS;
  // Only the hash is stored: a database reader cannot enroll a device.
  await db.insertInto('enrollment_codes').values({ code_hash: codeHash(code), user_id: userId, created_at: now, expires_at: expiresAt, used_at: null }).execute();
  return { code, expiresAt };
}

/**
 * Redeems a one-time code and registers the device's P-256 public key, atomically: a code enrolls
 * at most one key. The key is checked (J-17) before the code is spent.
 */
export async function enrollDevice(
  db: Kysely<Database>,
  input: { code: string; publicKeyJwk: unknown; label: string; credential?: WebAuthnRegistration | undefined },
  now: number,
  extensionOrigins: readonly string[] = DEFAULT_EXTENSION_ORIGINS,
): Promise<{ deviceId: string; userId: string; kid: string; presence?: { credentialId: string; rpId: string } }> {
  await importEs256PublicJwk(input.publicKeyJwk);
  const jwk: Es256PublicJwk = Es256PublicJwkSchema.parse(input.publicKeyJwk);
  const kid = await jwkThumbprint(jwk);
  // The credential is checked before the code is spent: a bad one leaves the code usable.
  const credential = input.credential === undefined ? undefined : await verifyEnrollmentCredential(input.credential, kid, extensionOrigins);
  const deviceId = newId('dev');
  return db.transaction().execute(async (trx) => {
    const spent = await trx
      .updateTable('enrollment_codes')
      .set({ used_at: now })
      .where('code_hash', '=', codeHash(input.code))
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('user_id')
      .executeTakeFirst();
    if (!spent) throw new CountersignError('code_invalid', 'enrollment code is unknown, used or expired');
    const existing = await trx.selectFrom('devices').select('kid').where('kid', '=', kid).executeTakeFirst();
    if (existing) throw new CountersignError('payload_invalid', 'publicKeyJwk: this key is already enrolled');
    if (credential && (await credentialTaken(trx, credential.credentialId))) throw new CountersignError('payload_invalid', 'credential: this authenticator credential is already registered with another device');
    await trx
      .insertInto('devices')
      .values({ kid, device_id: deviceId, user_id: spent.user_id, label: input.label, public_jwk: JSON.stringify(minimalJwk(jwk)), created_at: now, revoked_at: null })
      .execute();
    if (!credential) return { deviceId, userId: spent.user_id, kid };
    await insertCredential(trx, { deviceId, userId: spent.user_id, kid }, credential, now);
    return { deviceId, userId: spent.user_id, kid, presence: { credentialId: credential.credentialId, rpId: credential.rpId } };
  });
}

/** Marks a key revoked; true if it existed. Tokens under it fail from the next verify on. */
export async function revokeDevice(db: Kysely<Database>, kid: string, now: number): Promise<boolean> {
  const result = await db.updateTable('devices').set({ revoked_at: now }).where('kid', '=', kid).where('revoked_at', 'is', null).executeTakeFirst();
  if (Number(result.numUpdatedRows) > 0) return true;
  return (await db.selectFrom('devices').select('kid').where('kid', '=', kid).executeTakeFirst()) !== undefined;
}

/**
 * Enrolled keys from `devices` rows. Each public key is imported once per kid and kept: a kid is the
 * RFC 7638 thumbprint of its key, so it can never name another key. Revocation is not cached: it
 * comes from the row, read from the database on every verify.
 */
export function enrolledKeys(): (row: DeviceTable) => Promise<EnrolledKey> {
  const imported = new Map<string, CryptoKey>();
  return async (row) => {
    let publicKey = imported.get(row.kid);
    if (!publicKey) {
      publicKey = await importEs256PublicJwk(JSON.parse(row.public_jwk));
      imported.set(row.kid, publicKey);
    }
    return { kid: row.kid, deviceId: row.device_id, userId: row.user_id, revoked: row.revoked_at !== null, publicKey };
  };
}

/**
 * Exact-match lookup by kid (J-06). The revocation state is read from the database on every call,
 * so a revocation on any replica counts.
 */
export function keyLookup({ db, prepare }: DatabaseHandle, toKey = enrolledKeys()): (kid: string) => Promise<EnrolledKey | undefined> {
  const select = prepare(['kid'], ({ kid }) => db.selectFrom('devices').selectAll().where('kid', '=', kid));
  return async (kid) => {
    const [row] = await select({ kid });
    return row ? toKey(row) : undefined;
  };
}

/** The distinct users with an enrolled, unrevoked device: the people a proposal could be shown to (never a policy bot). */
export async function enrolledUsers(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('devices').select('user_id').distinct().where('revoked_at', 'is', null).where('user_id', 'not like', `${POLICY_BOT_PREFIX}%`).execute();
  return rows.map((r) => r.user_id);
}

/** A user's devices, newest first, each with whether it registered a presence credential. */
export async function devicesOf(db: Kysely<Database>, userId: string): Promise<Array<{ kid: string; deviceId: string; label: string; createdAt: number; revokedAt: number | null; presence: boolean }>> {
  const rows = await db
    .selectFrom('devices as d')
    .leftJoin('webauthn_credentials as w', (join) => join.onRef('w.device_id', '=', 'd.device_id').onRef('w.kid', '=', 'd.kid'))
    .select(['d.kid', 'd.device_id', 'd.label', 'd.created_at', 'd.revoked_at', 'w.credential_id'])
    .where('d.user_id', '=', userId)
    .orderBy('d.created_at', 'desc')
    .execute();
  return rows.map((r) => ({
    kid: r.kid,
    deviceId: r.device_id,
    label: r.label,
    createdAt: Number(r.created_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    presence: r.credential_id !== null,
  }));
}
