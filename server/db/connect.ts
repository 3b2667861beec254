// Opens the verifier's database (SQLite via better-sqlite3, or PostgreSQL via pg) and migrates it. Node only.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { VerifierConfig } from '../config';
import { migrateToLatest } from './migrations';
import type { Database } from './schema';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
  /** SQLite only: the raw connection (group commit, PRAGMA checks in tests and tools). */
  sqlite?: SQLite.Database;
  /** PostgreSQL only: the pool under Kysely, for named (server-side prepared) hot statements. */
  pool?: pg.Pool;
  close(): Promise<void>;
}

/** node-pg returns int8 as strings; every bigint here is a millisecond time or a seq, safe as a number. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Distinct SQL texts kept prepared; Kysely's queries have a few dozen shapes, so this is never reached in practice. */
const MAX_CACHED_STATEMENTS = 512;

/**
 * The connection as Kysely sees it, with each distinct SQL text prepared once: Kysely's SQLite
 * driver prepares every query anew, which costs more than running it. Safe because the driver only
 * runs statements to completion (`all`/`run`) on the one connection it serialises behind a mutex.
 */
function reusingStatements(sqlite: SQLite.Database): SqliteDatabase {
  const prepared = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      let statement = prepared.get(sql);
      if (!statement) {
        if (prepared.size >= MAX_CACHED_STATEMENTS) prepared.clear();
        statement = sqlite.prepare(sql);
        prepared.set(sql, statement);
      }
      return statement;
    },
  };
}

export async function openDatabase(database: VerifierConfig['database']): Promise<DatabaseHandle> {
  if (database.kind === 'sqlite') {
    if (database.file !== ':memory:') mkdirSync(dirname(database.file), { recursive: true });
    const sqlite = new SQLite(database.file);
    sqlite.pragma('journal_mode = WAL');
    // FULL: every commit is synced before it returns, so an acknowledged batch or a consumed jti
    // survives power loss, not only a process crash (SECURITY-CASES §0.6, R-05).
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
    await migrateToLatest(db as Kysely<unknown>);
    return { db, dialect: 'sqlite', sqlite, close: () => db.destroy() };
  }
  const pool = new pg.Pool({ connectionString: database.url, max: 10, types: pgTypes });
  // An idle connection can die under the pool (PostgreSQL restarted, failed over, or an administrator
  // terminated it): pg reports that as the pool's 'error' event, which without a listener is an uncaught
  // exception that kills the verifier. The pool has already dropped that connection; the next query
  // opens a new one, or fails and is answered 503 verifier_unavailable.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db as Kysely<unknown>);
  return { db, dialect: 'postgres', pool, close: () => db.destroy() };
}
