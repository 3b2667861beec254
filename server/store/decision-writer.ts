// The writer of verify decisions for an open database: group commit on SQLite (WAL fsync off the
// event loop) and on PostgreSQL (one statement per group). Node only.
import type { DatabaseHandle } from '../db/connect';
import type { WalSync } from '../db/wal-sync';
import type { DecisionWriter } from './group-commit';
import { PostgresGroupCommit } from './postgres-decisions';
import { SqliteGroupCommit } from './sqlite-decisions';

export type { ConsumeRequest, DecisionWriter } from './group-commit';

export interface DecisionWriterOptions {
  /** SQLite: how the WAL is made durable after a group's COMMIT (tests inject one; default: fsync of the -wal file). */
  syncWal?: WalSync;
}

export function createDecisionWriter(database: DatabaseHandle, options: DecisionWriterOptions = {}): DecisionWriter {
  if (database.dialect === 'sqlite') {
    if (!database.sqlite) throw new TypeError('a SQLite handle needs its raw connection');
    return new SqliteGroupCommit(database.db, database.sqlite, options.syncWal);
  }
  if (!database.pool) throw new TypeError('a PostgreSQL handle needs its pool');
  return new PostgresGroupCommit(database.pool);
}
