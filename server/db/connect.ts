// Opens the verifier's database (SQLite via better-sqlite3, or PostgreSQL via pg) and migrates it. Node only.
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { VerifierConfig } from '../config';
import { migrateToLatest } from './migrations';
import { pgPrepare, sqlitePrepare } from './prepared';
import type { Prepare } from './prepared';
import { driverReason } from './reason';
import type { Database } from './schema';

interface OpenDatabase {
  db: Kysely<Database>;
  /** Compiles a hot query once (prepared.ts); on PostgreSQL it runs as a named, server-side prepared statement. */
  prepare: Prepare;
  close(): Promise<void>;
}

export interface SqliteHandle extends OpenDatabase {
  dialect: 'sqlite';
  /** The raw connection (group commit, PRAGMA checks in tests and tools). */
  sqlite: SQLite.Database;
}

export interface PostgresHandle extends OpenDatabase {
  dialect: 'postgres';
  /** The pool under Kysely (the group commit's named statements). */
  pool: pg.Pool;
}

export type DatabaseHandle = SqliteHandle | PostgresHandle;

type DatabaseConfig = VerifierConfig['database'];

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

export function openDatabase(database: Extract<DatabaseConfig, { kind: 'sqlite' }>): Promise<SqliteHandle>;
export function openDatabase(database: Extract<DatabaseConfig, { kind: 'postgres' }>): Promise<PostgresHandle>;
export function openDatabase(database: DatabaseConfig): Promise<DatabaseHandle>;
export async function openDatabase(database: DatabaseConfig): Promise<DatabaseHandle> {
  if (database.kind === 'sqlite') {
    if (database.file !== ':memory:') mkdirSync(dirname(database.file), { recursive: true });
    const sqlite = new SQLite(database.file);
    sqlite.pragma('journal_mode = WAL');
    // FULL: every commit is synced before it returns, so an acknowledged batch or a consumed jti
    // survives power loss, not only a process crash (SECURITY-CASES §0.6, R-05).
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    // 64 MiB of page cache instead of SQLite's 2 MiB: the replay, decision and receipt indexes take
    // random keys, and once they outgrow the cache every insert reads its page back from the OS.
    sqlite.pragma('cache_size = -65536');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
    await migrateOrClose(db);
    return { db, dialect: 'sqlite', sqlite, prepare: sqlitePrepare(db, sqlite), close: () => db.destroy() };
  }
  const connectionString = withLibpqUser(database.url);
  // Connect once before anything else, so that a URL the verifier cannot use fails the start with
  // the driver's own reason (refused, unknown role, failed authentication, no such database).
  await probePostgres(connectionString);
  const pool = new pg.Pool({ connectionString, max: 10, types: pgTypes });
  // An idle connection can die under the pool (PostgreSQL restarted, failed over, or an administrator
  // terminated it): pg reports that as the pool's 'error' event, which without a listener is an uncaught
  // exception that kills the verifier. The pool has already dropped that connection; the next query
  // opens a new one, or fails and is answered 503 verifier_unavailable.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrateOrClose(db);
  return { db, dialect: 'postgres', pool, prepare: pgPrepare(pool), close: () => db.destroy() };
}

/** A database that cannot be migrated is closed again: the caller gets the reason, not an open pool. */
async function migrateOrClose(db: Kysely<Database>): Promise<void> {
  try {
    await migrateToLatest(db as Kysely<unknown>);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw error;
  }
}

/** How long the start-up probe waits for PostgreSQL (a host that drops packets would otherwise hang the start). */
const PROBE_TIMEOUT_MS = 15_000;

async function probePostgres(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  // A connection lost after connect would be an 'error' event; the probe ends it at once anyway.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`cannot use PostgreSQL${describeTarget(connectionString)}: ${driverReason(error)}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * libpq's user default, which node-pg lacks: a URL that names no user (`postgres:///db?host=/var/run/postgresql`)
 * connects as PGUSER, else (node-pg's own default) USER, else the operating system's user, as psql does.
 * Without it node-pg sends no user at all and the server answers "no PostgreSQL user name specified".
 */
export function withLibpqUser(url: string, env: Record<string, string | undefined> = process.env, osUser: () => string = () => userInfo().username): string {
  if (namesUser(url) || env.PGUSER || env.USER) return url;
  let user: string;
  try {
    user = osUser();
  } catch {
    return url; // no user known to the OS either: the server's refusal says so
  }
  if (!user) return url;
  return `${url}${url.includes('?') ? '&' : '?'}user=${encodeURIComponent(user)}`;
}

function namesUser(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // A form only node-pg reads (`postgres://user@/db`): leave it to the driver as written.
    return true;
  }
  return parsed.username !== '' || parsed.searchParams.has('user');
}

/** Where the URL points, for the start-up error: host (or socket directory), port and database, never a password. */
function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') || u.hostname || 'localhost';
    const port = u.searchParams.get('port') || u.port || '5432';
    const user = decodeURIComponent(u.username) || u.searchParams.get('user');
    const database = decodeURIComponent(u.pathname.slice(1)) || user;
    return ` at ${host}${host.startsWith('/') ? ` (port ${port})` : `:${port}`}${database ? `, database ${database}` : ''}${user ? `, user ${user}` : ''}`;
  } catch {
    return '';
  }
}
