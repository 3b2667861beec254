// A private PostgreSQL database per test file on the run's throwaway cluster (test/setup/postgres.global.ts). Node only (tests).
//
//   const db = await createTestDatabase('receipts');   // in beforeAll
//   ... new pg.Pool({ connectionString: db.url }) ...
//   await pool.end(); await db.drop();                 // in afterAll
import { randomBytes } from 'node:crypto';
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
