// Single use of device proofs (`Authorization: Countersign-Device`): each `(kid, jti)` is kept in the
// replay table under its own issuer namespace until the proof's window has passed. Node only.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';

/** Records a proof's `(kid, jti)`; false when it was already there (a replay). */
export async function consumeDeviceProof(db: Kysely<Database>, entry: { kid: string; jti: string; expiresAt: number }): Promise<boolean> {
  const result = await db
    .insertInto('consumed')
    .values({ iss: `device-proof:${entry.kid}`, jti: entry.jti, expires_at: entry.expiresAt })
    .onConflict((oc) => oc.columns(['iss', 'jti']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}
