// The kill switch: global, per agent, per user, per site; every kill ever engaged stays on record. Node only.
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { ApprovalQuestion, KillCover, KillEntry, KillRequest } from '../../lib/protocol';
import type { DatabaseHandle } from '../db/connect';
import type { Database } from '../db/schema';
import { newId } from './ids';

function target(request: KillRequest): string | null {
  return request.scope === 'global' ? null : request.target;
}

/** Engages a kill (idempotent while one is engaged for the same scope and target). */
export async function engageKill(db: Kysely<Database>, request: KillRequest, now: number): Promise<KillEntry> {
  return db.transaction().execute(async (trx) => {
    const t = target(request);
    let query = trx.selectFrom('kills').selectAll().where('scope', '=', request.scope).where('lifted_at', 'is', null);
    query = t === null ? query.where('target', 'is', null) : query.where('target', '=', t);
    const existing = await query.executeTakeFirst();
    if (existing) return { scope: request.scope, target: t, since: existing.since };
    await trx.insertInto('kills').values({ id: newId('kill'), scope: request.scope, target: t, since: now, lifted_at: null }).execute();
    return { scope: request.scope, target: t, since: now };
  });
}

/** Lifts the engaged kill for this scope and target; the record stays, so older tokens stay void. */
export async function liftKill(db: Kysely<Database>, request: KillRequest, now: number): Promise<number> {
  const t = target(request);
  let query = db.updateTable('kills').set({ lifted_at: now }).where('scope', '=', request.scope).where('lifted_at', 'is', null);
  query = t === null ? query.where('target', 'is', null) : query.where('target', '=', t);
  return Number((await query.executeTakeFirst()).numUpdatedRows);
}

export async function activeKills(db: Kysely<Database>): Promise<KillEntry[]> {
  const rows = await db.selectFrom('kills').select(['scope', 'target', 'since']).where('lifted_at', 'is', null).orderBy('since').execute();
  return rows.map((r) => ({ scope: r.scope as KillEntry['scope'], target: r.target, since: r.since }));
}

/**
 * Every kill, engaged or lifted, that covers a request: global, its agent, its approver, its site.
 * Read from the database on every call, so a kill engaged on any replica counts from the next verify.
 */
export function killLookup({ db, prepare }: DatabaseHandle): (q: ApprovalQuestion) => Promise<KillCover[]> {
  const select = prepare(['agt', 'sub', 'site'], (q) => db.selectFrom('kills').select(['since', 'lifted_at']).where((eb) => coversRequest(eb, q)));
  return async (q) => (await select({ agt: q.agt, sub: q.sub, site: q.site })).map(killCover);
}

/** The condition on `kills` rows that cover a request: global, its agent, its approver, its site. */
export function coversRequest(eb: ExpressionBuilder<Database, 'kills'>, q: { agt: string; sub: string; site: string }) {
  return eb.or([
    eb('scope', '=', 'global'),
    eb.and([eb('scope', '=', 'agent'), eb('target', '=', q.agt)]),
    eb.and([eb('scope', '=', 'user'), eb('target', '=', q.sub)]),
    eb.and([eb('scope', '=', 'site'), eb('target', '=', q.site)]),
  ]);
}

export function killCover(row: { since: number; lifted_at: number | null }): KillCover {
  return { engaged: row.lifted_at === null, since: row.since };
}
