// Devices' WebAuthn credentials (user presence): stored at enrollment, read by device, and the sign
// count advanced once per admitted assertion. Node only.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { PresenceCredential } from '../presence';

export async function insertCredential(trx: Transaction<Database>, device: { deviceId: string; userId: string; kid: string }, credential: PresenceCredential, now: number): Promise<void> {
  await trx
    .insertInto('webauthn_credentials')
    .values({
      device_id: device.deviceId,
      user_id: device.userId,
      kid: device.kid,
      credential_id: credential.credentialId,
      public_key: credential.publicKey,
      sign_count: credential.signCount,
      origin: credential.origin,
      rp_id: credential.rpId,
      created_at: now,
    })
    .execute();
}

/** True when another device already registered this credential id (one authenticator credential, one device). */
export async function credentialTaken(trx: Transaction<Database>, credentialId: string): Promise<boolean> {
  return (await trx.selectFrom('webauthn_credentials').select('device_id').where('credential_id', '=', credentialId).executeTakeFirst()) !== undefined;
}

/** The credential of a device key (the device id and the key it was registered with), or undefined. */
export async function credentialOf(db: Kysely<Database>, deviceId: string, kid: string): Promise<PresenceCredential | undefined> {
  const row = await db.selectFrom('webauthn_credentials').selectAll().where('device_id', '=', deviceId).where('kid', '=', kid).executeTakeFirst();
  return row ? { credentialId: row.credential_id, publicKey: row.public_key, signCount: Number(row.sign_count), origin: row.origin, rpId: row.rp_id } : undefined;
}

export interface Admission {
  /** The token's device (`iss`) and id: the same token checked again passes again. */
  iss: string;
  jti: string;
  signCount: number;
  /** Seconds: exp + skew. */
  expiresAt: number;
}

/**
 * Admits an assertion's sign count, atomically: the same token's assertion admitted before passes
 * again (a proposal's approval checked at decision and again when the tool uses it, a published
 * held action, a replay that `consume` then refuses); otherwise the count must be above the stored
 * one, or both 0 (an authenticator without a counter), and the stored count advances. False when
 * the count went back or stayed: a cloned authenticator.
 */
export async function admitSignCount(db: Kysely<Database>, entry: Admission): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const known = await trx.selectFrom('presence_admitted').select('sign_count').where('iss', '=', entry.iss).where('jti', '=', entry.jti).executeTakeFirst();
    if (known) return Number(known.sign_count) === entry.signCount;
    const counter = entry.signCount;
    // One conditional update decides, so two assertions checked at once on any replicas are ordered by the row lock.
    const moved = await trx
      .updateTable('webauthn_credentials')
      .set({ sign_count: counter })
      .where('device_id', '=', entry.iss)
      .where('sign_count', counter === 0 ? '=' : '<', counter)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) {
      // The same token checked at the same time on another connection: the update waited for that one's
      // commit, and a new statement now sees what it admitted (PostgreSQL, read committed).
      const raced = await trx.selectFrom('presence_admitted').select('sign_count').where('iss', '=', entry.iss).where('jti', '=', entry.jti).executeTakeFirst();
      return raced !== undefined && Number(raced.sign_count) === counter;
    }
    await trx
      .insertInto('presence_admitted')
      .values({ iss: entry.iss, jti: entry.jti, sign_count: counter, expires_at: entry.expiresAt })
      .onConflict((oc) => oc.columns(['iss', 'jti']).doNothing())
      .execute();
    return true;
  });
}
