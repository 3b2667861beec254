// The local hash-chained log: append inside the caller's Dexie transaction, so an event commits
// with the state change it records. Extension origin only (background).
import Dexie from 'dexie';
import type { Table } from 'dexie';
import { appendEvent } from '../protocol';
import type { LogEvent, NewEventFields } from '../protocol';
import { db } from './db';

/** The tables an append touches, plus those of the state change it records: one transaction for both. */
export function logTables(...also: Table[]): Table[] {
  return [...also, db().log, db().unchained, db().chain];
}

/**
 * Appends one event. Must run inside a `rw` transaction over `log`, `unchained` and `chain`. Before
 * enrollment the device has no id to chain under, so the event waits in `unchained` and is chained
 * (in order) by the first append after enrollment.
 */
export async function appendLog(fields: NewEventFields): Promise<LogEvent | null> {
  const chain = await db().chain.get('chain');
  if (!chain) {
    await db().unchained.add({ id: fields.id, fields });
    return null;
  }
  let head = chain.head;
  const waiting = await db().unchained.toArray();
  let last: LogEvent | null = null;
  for (const next of [...waiting.map((w) => w.fields).sort((a, b) => a.ts - b.ts), fields]) {
    // Hashing is Web Crypto, not IndexedDB: waitFor keeps the transaction open across it, so the
    // event still commits atomically with the state change it records.
    last = await Dexie.waitFor(appendEvent(head, { deviceId: chain.deviceId, epoch: chain.epoch }, next));
    await db().log.add({ ...last, synced: 0 });
    head = { epoch: last.epoch, seq: last.seq, hash: last.hash };
  }
  if (waiting.length) await db().unchained.bulkDelete(waiting.map((w) => w.id));
  await db().chain.put({ ...chain, head });
  return last;
}

/** Appends in a transaction of its own (for events with no other state change). */
export function recordEvent(fields: NewEventFields): Promise<LogEvent | null> {
  return db().transaction('rw', logTables(), () => appendLog(fields));
}

export interface LogFilter {
  trace?: string;
  agent?: string;
  type?: string;
}

/** Events in chain order, filtered; for the options page's viewer. */
export async function listLog(filter: LogFilter = {}, limit = 500): Promise<LogEvent[]> {
  const rows = await db().log.orderBy('[epoch+seq]').toArray();
  return rows
    .filter((e) => (!filter.trace || e.trc === filter.trace) && (!filter.agent || e.agent === filter.agent) && (!filter.type || e.type === filter.type))
    .slice(-limit)
    .map(({ synced: _synced, ...event }) => event);
}

/** JSON Lines, one event a line, chain order. */
export async function exportLog(filter: LogFilter = {}): Promise<string> {
  return (await listLog(filter, Number.MAX_SAFE_INTEGER)).map((e) => JSON.stringify(e)).join('\n');
}
