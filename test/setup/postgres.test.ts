// The PostgreSQL test harness itself: a real server, one isolated database per caller, durability settings on.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../helpers/postgres';
import type { TestDatabase } from '../helpers/postgres';

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('PostgreSQL test harness', () => {
  let first: TestDatabase;
  let second: TestDatabase;

  beforeAll(async () => {
    first = await createTestDatabase('harness');
    second = await createTestDatabase('harness');
  });

  afterAll(async () => {
    await first?.drop();
    await second?.drop();
  });

  it('provides a loopback URL to the run cluster', () => {
    expect(inject('postgresUrl')).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  });

  it('is a real PostgreSQL server', async () => {
    const [row] = await query<{ version: string }>(first.url, 'SELECT version()');
    expect(row?.version).toMatch(/^PostgreSQL \d+/);
  });

  it('keeps fsync and synchronous commit on', async () => {
    expect(await query(first.url, 'SHOW fsync')).toEqual([{ fsync: 'on' }]);
    expect(await query(first.url, 'SHOW synchronous_commit')).toEqual([{ synchronous_commit: 'on' }]);
  });

  it('gives each caller its own database', async () => {
    expect(first.name).not.toBe(second.name);
    expect(first.url).not.toBe(second.url);

    await query(first.url, "CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL); INSERT INTO items VALUES (1, 'one')");
    expect(await query(first.url, 'SELECT id, label FROM items')).toEqual([{ id: 1, label: 'one' }]);

    const tables = await query(second.url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    expect(tables).toEqual([]);
  });

  it('drops a database even with a connection still open', async () => {
    const scratch = await createTestDatabase('harness_drop');
    const straggler = new pg.Client({ connectionString: scratch.url });
    straggler.on('error', () => undefined); // it is about to be terminated
    await straggler.connect();

    await scratch.drop();
    await scratch.drop(); // idempotent

    const rows = await query<{ n: string }>(first.url, `SELECT count(*) AS n FROM pg_database WHERE datname = '${scratch.name}'`);
    expect(rows).toEqual([{ n: '0' }]);
    await straggler.end().catch(() => undefined);
  });
});
