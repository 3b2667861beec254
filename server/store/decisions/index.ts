// Verify decisions: the writer for an open database — group commit on SQLite (WAL fsync off the
// event loop, sqlite.ts) and on PostgreSQL (one statement per group, postgres.ts) over one queue
// (queue.ts) — and the records it leaves (records.ts). Node only.
import type { DatabaseHandle } from '../../db/connect';
import type { WalSync } from '../../db/wal-sync';
import { PostgresGroupCommit } from './postgres';
import type { DecisionWriter } from './queue';
import { SqliteGroupCommit } from './sqlite';

export type { ConsumeRequest, DecisionWriter } from './queue';
export { PRUNE_MARGIN_SECONDS, decisionsForTrace, isConsumed, pruneConsumed } from './records';
export type { DecisionFacts } from './records';

export interface DecisionWriterOptions {
  /** SQLite: how the WAL is made durable after a group's COMMIT (tests inject one; default: fsync of the -wal file). */
  syncWal?: WalSync;
}

export function createDecisionWriter(database: DatabaseHandle, options: DecisionWriterOptions = {}): DecisionWriter {
  if (database.dialect === 'sqlite') return new SqliteGroupCommit(database.db, database.sqlite, options.syncWal);
  return new PostgresGroupCommit(database.pool);
}
