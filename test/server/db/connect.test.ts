// Opening the verifier's database: a PostgreSQL pool survives its idle connections being killed under
// it (a restart, a failover, an administrator's pg_terminate_backend) instead of crashing the process.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@/server/db/connect';
import type { DatabaseHandle } from '@/server/db/connect';
import { createTestDatabase } from '../../helpers/postgres';
import type { TestDatabase } from '../../helpers/postgres';

describe('openDatabase (PostgreSQL)', () => {
  let storage: TestDatabase;
  let database: DatabaseHandle;
  beforeAll(async () => {
    storage = await createTestDatabase('connect');
    database = await openDatabase({ kind: 'postgres', url: storage.url });
  });
  afterAll(async () => {
    await database?.close();
    await storage?.drop();
  });

  it('keeps serving after the server terminates its idle connections (no uncaught error from the pool)', async () => {
    // Several idle connections in the pool.
    await Promise.all(Array.from({ length: 4 }, () => database.pool!.query('SELECT pg_sleep(0.05)')));
    expect(database.pool!.idleCount).toBeGreaterThan(0);
    const admin = new pg.Client({ connectionString: storage.url });
    await admin.connect();
    try {
      const { rows } = await admin.query('SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // The pool notices the dead connections, drops them, and a new query gets a fresh one.
    await expect.poll(() => database.pool!.idleCount, { timeout: 5_000 }).toBe(0);
    const [row] = await database.db.selectFrom('decisions').select((eb) => eb.fn.countAll().as('n')).execute();
    expect(Number(row!.n)).toBe(0);
  });
});
