// The replay cache and the decision record: their rows, pruning and reading back (the writes, one
// transaction for a consumed (iss, jti), its allow decision and the receipt issued for it, are
// queue.ts and its two databases). Node only.
import type { Kysely } from 'kysely';
import type { DecisionRecord } from '../../../lib/protocol';
import type { Database } from '../../db/schema';
import { newId } from '../ids';

export interface DecisionFacts {
  code: DecisionRecord['code'];
  traceId: string | null;
  agent: string | null;
  approver: string | null;
  digest: string | null;
  policyVersion: string;
  kid: string | null;
  /** A policy bot's approval: the rule that allowed it. */
  rule?: string | null | undefined;
}

/** The `decisions` row of one decision (DecisionWriter writes it). */
export function decisionRow(facts: DecisionFacts, now: number) {
  return {
    id: newId('dec'),
    ts: now,
    code: facts.code,
    trace_id: facts.traceId,
    agent: facts.agent,
    approver: facts.approver,
    digest: facts.digest,
    policy_version: facts.policyVersion,
    kid: facts.kid,
    rule: facts.rule ?? null,
  };
}

export type DecisionRow = ReturnType<typeof decisionRow>;

/**
 * A consumed entry outlives its token's last valid second by this much, so that a verify that
 * checked the time just before a prune cannot insert the same jti afresh just after it.
 */
export const PRUNE_MARGIN_SECONDS = 300;

/** Consumed entries one pruning statement deletes at most. */
const PRUNE_CHUNK = 5_000;

/** Whether the tool already consumed this (iss, jti): an approval that was used can approve nothing more. */
export async function isConsumed(db: Kysely<Database>, iss: string, jti: string): Promise<boolean> {
  return (await db.selectFrom('consumed').select('jti').where('iss', '=', iss).where('jti', '=', jti).executeTakeFirst()) !== undefined;
}

/** Drops consumed entries whose tokens expired more than PRUNE_MARGIN_SECONDS ago. */
export async function pruneConsumed(db: Kysely<Database>, nowSeconds: number, chunk = PRUNE_CHUNK): Promise<number> {
  const before = nowSeconds - PRUNE_MARGIN_SECONDS;
  // In chunks, each its own short statement: one DELETE of a busy verifier's 30 s of tokens would hold
  // SQLite's write lock (and every group commit behind it) for as long as it takes.
  let deleted = 0;
  for (;;) {
    const result = await db
      .deleteFrom('consumed')
      .where((eb) => eb(eb.refTuple('iss', 'jti'), 'in', eb.selectFrom('consumed').select(['iss', 'jti']).where('expires_at', '<', before).limit(chunk).$asTuple('iss', 'jti')))
      .executeTakeFirst();
    const n = Number(result.numDeletedRows);
    deleted += n;
    if (n < chunk) break;
    await new Promise((r) => setImmediate(r));
  }
  // Admitted assertions belong to tokens past their exp as well: nobody can present them any more.
  await db.deleteFrom('presence_admitted').where('expires_at', '<', before).execute();
  return deleted;
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
    ...(r.rule !== null ? { rule: r.rule } : {}),
  }));
}
