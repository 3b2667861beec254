// The replay cache and the decision record: a consumed (iss, jti) and its allow decision are one
// transaction; every refusal is recorded too. Node only.
import type { Kysely, Transaction } from 'kysely';
import type { DecisionRecord } from '../../lib/protocol';
import type { Database } from '../db/schema';
import { newId } from './ids';

export interface DecisionFacts {
  code: DecisionRecord['code'];
  traceId: string | null;
  agent: string | null;
  approver: string | null;
  digest: string | null;
  policyVersion: string;
  kid: string | null;
}

async function insertDecision(db: Kysely<Database> | Transaction<Database>, facts: DecisionFacts, now: number): Promise<void> {
  await db
    .insertInto('decisions')
    .values({
      id: newId('dec'),
      ts: now,
      code: facts.code,
      trace_id: facts.traceId,
      agent: facts.agent,
      approver: facts.approver,
      digest: facts.digest,
      policy_version: facts.policyVersion,
      kid: facts.kid,
    })
    .execute();
}

/**
 * Inserts (iss, jti) — unique key, so concurrent uses of one token race on the index, never on a
 * read — and, in the same transaction, the allow decision. False when the jti was already consumed.
 */
export async function consumeAndAllow(
  db: Kysely<Database>,
  entry: { iss: string; jti: string; expiresAt: number },
  facts: Omit<DecisionFacts, 'code'>,
  now: number,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx
      .insertInto('consumed')
      .values({ iss: entry.iss, jti: entry.jti, expires_at: entry.expiresAt })
      .onConflict((oc) => oc.columns(['iss', 'jti']).doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
    await insertDecision(trx, { ...facts, code: 'allow' }, now);
    return true;
  });
}

export function recordRefusal(db: Kysely<Database>, facts: DecisionFacts, now: number): Promise<void> {
  return insertDecision(db, facts, now);
}

/**
 * A consumed entry outlives its token's last valid second by this much, so that a verify that
 * checked the time just before a prune cannot insert the same jti afresh just after it.
 */
export const PRUNE_MARGIN_SECONDS = 300;

/** Drops consumed entries whose tokens expired more than PRUNE_MARGIN_SECONDS ago. */
export async function pruneConsumed(db: Kysely<Database>, nowSeconds: number): Promise<number> {
  const result = await db.deleteFrom('consumed').where('expires_at', '<', nowSeconds - PRUNE_MARGIN_SECONDS).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function decisionsForTrace(db: Kysely<Database>, traceId: string): Promise<DecisionRecord[]> {
  const rows = await db.selectFrom('decisions').selectAll().where('trace_id', '=', traceId).orderBy('ts').execute();
  return rows.map((r) => ({
    id: r.id,
    ts: r.ts,
    code: r.code,
    traceId: r.trace_id,
    agent: r.agent,
    approver: r.approver,
    digest: r.digest,
    policyVersion: r.policy_version,
  }));
}
