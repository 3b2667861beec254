// The kill switch: global, per agent, per user, per site; every kill ever engaged stays on record. Node only.
import type { Kysely } from 'kysely';
import type { ApprovalQuestion, KillCover, KillEntry, KillRequest } from '../../lib/protocol';
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

/** Every kill, engaged or lifted, that covers a request: global, its agent, its approver, its site. */
export async function killsCovering(db: Kysely<Database>, q: ApprovalQuestion): Promise<KillCover[]> {
  const rows = await db
    .selectFrom('kills')
    .select(['since', 'lifted_at'])
    .where((eb) =>
      eb.or([
        eb('scope', '=', 'global'),
        eb.and([eb('scope', '=', 'agent'), eb('target', '=', q.agt)]),
        eb.and([eb('scope', '=', 'user'), eb('target', '=', q.sub)]),
        eb.and([eb('scope', '=', 'site'), eb('target', '=', q.site)]),
      ]),
    )
    .execute();
  return rows.map((r) => ({ engaged: r.lifted_at === null, since: r.since }));
}
