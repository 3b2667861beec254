// A private PostgreSQL database per test file on the run's throwaway cluster (test/setup/postgres.global.ts). Node only (tests).
//
//   const db = await createTestDatabase('receipts');   // in beforeAll
//   ... new pg.Pool({ connectionString: db.url }) ...
//   await pool.end(); await db.drop();                 // in afterAll
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import pg from 'pg';
import { inject } from 'vitest';
// Type-only: brings in the ProvidedContext augmentation that types inject('postgresUrl').
import type {} from '../setup/postgres.global';

export type TestDatabase = {
  /** postgres://postgres@127.0.0.1:<port>/<name>: superuser, trust auth, nobody else uses this database. */
  url: string;
  name: string;
  /** Terminates every connection to the database and drops it. Idempotent. */
  drop(): Promise<void>;
};

/** Creates an empty, uniquely named database (prefix_<random>), so test files in parallel workers never share state. */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const adminUrl = clusterUrl();
  const safePrefix = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^[^a-z_]/, '_$&').slice(0, 40) || 'test';
  const name = `${safePrefix}_${process.pid}_${randomBytes(6).toString('hex')}`;

  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`));

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      await withAdmin(adminUrl, async (client) => {
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      });
      dropped = true;
    },
  };
}

/**
 * The run's cluster as a libpq-style socket URL for `database`: `postgres:///<db>?host=<dir>&port=<port>`,
 * naming no user (the caller's OS user then, as with psql).
 */
export function socketUrl(database: string): string {
  const dir = inject('postgresSocketDir');
  if (!dir) throw new Error("No 'postgresSocketDir' provided: run under Vitest with globalSetup test/setup/postgres.global.ts.");
  return `postgres:///${encodeURIComponent(database)}?host=${encodeURIComponent(dir)}&port=${new URL(clusterUrl()).port}`;
}

/**
 * Lets the operating system's user (a role of that name, created once for the whole run and left in
 * the throwaway cluster, so parallel files never drop it under each other) own `database`: what a
 * URL that names no user connects as.
 */
export async function ownByOsUser(database: TestDatabase): Promise<string> {
  const user = userInfo().username;
  const ident = quoteIdent(user);
  await asSuperuser(async (client) => {
    try {
      await client.query(`CREATE ROLE ${ident} LOGIN`);
    } catch (error) {
      // Already there (this run or a parallel file): 42710 duplicate_object, or 23505 when two files raced.
      if (!['42710', '23505'].includes((error as { code?: string }).code ?? '')) throw error;
    }
    // PostgreSQL 15: public belongs to pg_database_owner, so the owner may create the verifier's tables.
    await client.query(`ALTER DATABASE ${quoteIdent(database.name)} OWNER TO ${ident}`);
  });
  return user;
}

/** Runs `work` as the cluster's superuser (roles, ownership: what a test of connection rules needs). */
export function asSuperuser<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withAdmin(clusterUrl(), work);
}

function clusterUrl(): string {
  const url = inject('postgresUrl');
  if (!url) throw new Error("No 'postgresUrl' provided: run under Vitest with globalSetup test/setup/postgres.global.ts (see vitest.config.ts).");
  return url;
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function quoteIdent(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
