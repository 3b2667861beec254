// Log ingest: a device's signed batch continues its chain exactly, atomically, or not at all. Node only.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ChainHead, LogBatchPayload, LogEvent } from '../../lib/protocol';
import { ChainBroken, CountersignError, checkBatch } from '../../lib/protocol';
import type { Database } from '../db/schema';
import { newId } from './ids';

export interface IngestResult {
  ackedSeq: number;
  fresh: number;
  duplicates: number;
}

/**
 * Checks and stores one batch in one transaction. The device's head row is locked (PostgreSQL
 * FOR UPDATE; SQLite has one writer) so two batches of one device cannot interleave. A fork is
 * kept as evidence and freezes the device's chain; a frozen chain accepts nothing.
 */
export async function ingestBatch(db: Kysely<Database>, dialect: 'sqlite' | 'postgres', batch: LogBatchPayload, now: number): Promise<IngestResult> {
  try {
    return await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('chain_heads')
        .values({ device_id: batch.deviceId, epoch: 0, seq: 0, hash: '', frozen_at: null })
        .onConflict((oc) => oc.column('device_id').doNothing())
        .execute();
      let headQuery = trx.selectFrom('chain_heads').selectAll().where('device_id', '=', batch.deviceId);
      if (dialect === 'postgres') headQuery = headQuery.forUpdate();
      const row = (await headQuery.executeTakeFirstOrThrow());
      if (row.frozen_at !== null) throw new CountersignError('chain_broken', 'this device\'s chain is frozen after a fork');
      const head: ChainHead | null = row.seq === 0 ? null : { epoch: row.epoch, seq: row.seq, hash: row.hash };

      const first = batch.events[0]!;
      const last = batch.events[batch.events.length - 1]!;
      const stored = new Map<string, string>();
      if (head) {
        const rows = await trx
          .selectFrom('log_events')
          .select(['epoch', 'seq', 'hash'])
          .where('device_id', '=', batch.deviceId)
          .where((eb) => eb.or([eb('epoch', '>', first.epoch), eb.and([eb('epoch', '=', first.epoch), eb('seq', '>=', first.seq)])]))
          .where((eb) => eb.or([eb('epoch', '<', last.epoch), eb.and([eb('epoch', '=', last.epoch), eb('seq', '<=', last.seq)])]))
          .execute();
        for (const r of rows) stored.set(`${r.epoch}:${r.seq}`, r.hash);
      }
      const checked = await checkBatch({ deviceId: batch.deviceId, head, storedHash: (e, s) => stored.get(`${e}:${s}`), sha256Hex }, batch.events);

      if (checked.fresh.length > 0) {
        await trx.insertInto('log_events').values(checked.fresh.map((e) => eventRow(e, now))).execute();
        const h = checked.head!;
        await trx.updateTable('chain_heads').set({ epoch: h.epoch, seq: h.seq, hash: h.hash }).where('device_id', '=', batch.deviceId).execute();
      }
      return { ackedSeq: last.seq, fresh: checked.fresh.length, duplicates: checked.duplicates };
    });
  } catch (error) {
    if (error instanceof ChainBroken && error.reason === 'fork') await keepForkEvidence(db, batch, error, now);
    throw error;
  }
}

/**
 * node:crypto's SHA-256, synchronous: the same digest of the same UTF-8 bytes as Web Crypto's, without
 * an asynchronous round trip per event (500 per batch).
 */
function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function eventRow(e: LogEvent, now: number) {
  return { device_id: e.deviceId, epoch: e.epoch, seq: e.seq, hash: e.hash, trc: e.trc, type: e.type, ts: e.ts, event: JSON.stringify(e), received_at: now };
}

async function keepForkEvidence(db: Kysely<Database>, batch: LogBatchPayload, error: ChainBroken, now: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const storedRow = await trx
      .selectFrom('log_events')
      .select('hash')
      .where('device_id', '=', batch.deviceId)
      .where('epoch', '=', error.epoch)
      .where('seq', '=', error.seq)
      .executeTakeFirst();
    const received = batch.events.find((e) => e.epoch === error.epoch && e.seq === error.seq);
    await trx
      .insertInto('chain_evidence')
      .values({
        id: newId('fork'),
        device_id: batch.deviceId,
        epoch: error.epoch,
        seq: error.seq,
        reason: error.reason,
        stored_hash: storedRow?.hash ?? null,
        received: JSON.stringify(received ?? null),
        received_at: now,
      })
      .execute();
    await trx.updateTable('chain_heads').set({ frozen_at: now }).where('device_id', '=', batch.deviceId).execute();
  });
}

export async function eventsForTrace(db: Kysely<Database>, traceId: string): Promise<LogEvent[]> {
  const rows = await db.selectFrom('log_events').select('event').where('trc', '=', traceId).orderBy('ts').orderBy('seq').execute();
  return rows.map((r) => JSON.parse(r.event) as LogEvent);
}
