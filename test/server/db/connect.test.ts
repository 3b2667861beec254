// Opening the verifier's database: a PostgreSQL pool survives its idle connections being killed under
// it (a restart, a failover, an administrator's pg_terminate_backend) instead of crashing the process;
// a URL it cannot use fails with the driver's reason; a socket URL with no user works as with libpq.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, withLibpqUser } from '@/server/db/connect';
import type { PostgresHandle } from '@/server/db/connect';
import { asSuperuser, createTestDatabase, ownByOsUser, socketUrl } from '../../helpers/postgres';
import type { TestDatabase } from '../../helpers/postgres';

describe('openDatabase (PostgreSQL)', () => {
  let storage: TestDatabase;
  let database: PostgresHandle;
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
    await Promise.all(Array.from({ length: 4 }, () => database.pool.query('SELECT pg_sleep(0.05)')));
    expect(database.pool.idleCount).toBeGreaterThan(0);
    const admin = new pg.Client({ connectionString: storage.url });
    await admin.connect();
    try {
      const { rows } = await admin.query('SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // The pool notices the dead connections, drops them, and a new query gets a fresh one.
    await expect.poll(() => database.pool.idleCount, { timeout: 5_000 }).toBe(0);
    const [row] = await database.db.selectFrom('decisions').select((eb) => eb.fn.countAll().as('n')).execute();
    expect(Number(row!.n)).toBe(0);
  });
});

describe('a PostgreSQL URL the verifier cannot use fails with the driver\'s reason', () => {
  let storage: TestDatabase;
  beforeAll(async () => {
    storage = await createTestDatabase('connect_refusals');
  });
  afterAll(async () => {
    await storage?.drop();
  });

  const refusal = (url: string) => openDatabase({ kind: 'postgres', url }).then(
    async (opened) => {
      await opened.close();
      return 'opened';
    },
    (error: Error) => error.message,
  );

  it('a closed port → "connect ECONNREFUSED 127.0.0.1:1", never "migration unknown failed"', async () => {
    const message = await refusal('postgres://postgres@127.0.0.1:1/countersign');
    expect(message).toContain('connect ECONNREFUSED 127.0.0.1:1');
    expect(message).toContain('127.0.0.1:1');
    expect(message).not.toContain('migration');
  });

  it('an unknown role → the server\'s "role … does not exist"', async () => {
    const url = new URL(storage.url);
    url.username = 'nobody_here';
    expect(await refusal(url.toString())).toContain('role "nobody_here" does not exist');
  });

  it('an unknown database → the server\'s "database … does not exist"', async () => {
    const url = new URL(storage.url);
    url.pathname = '/no_such_database_x';
    expect(await refusal(url.toString())).toContain('database "no_such_database_x" does not exist');
  });

  it('a socket directory with no server → the socket\'s ENOENT', async () => {
    expect(await refusal('postgres://postgres@/countersign?host=/nonexistent-countersign-dir')).toContain('ENOENT /nonexistent-countersign-dir/.s.PGSQL.5432');
  });

  it('a role that may not create tables → the migration\'s reason ("permission denied"), not "unknown"', async () => {
    const role = `cs_no_create_${process.pid}`;
    const own = await createTestDatabase('connect_no_create');
    await asSuperuser(async (client) => {
      await client.query(`DROP ROLE IF EXISTS ${role}`);
      await client.query(`CREATE ROLE ${role} LOGIN`);
    });
    try {
      const url = new URL(own.url);
      url.username = role;
      const message = await refusal(url.toString());
      expect(message).toMatch(/^could not migrate the database: permission denied for schema public|^migration 0001_initial failed: permission denied/);
    } finally {
      await own.drop();
      await asSuperuser((client) => client.query(`DROP ROLE IF EXISTS ${role}`));
    }
  });
});

describe('postgres:///db?host=<socket dir> works as with libpq: the OS user when the URL names none', () => {
  let storage: TestDatabase;
  let osUser: string;
  beforeAll(async () => {
    storage = await createTestDatabase('connect_socket');
    osUser = await ownByOsUser(storage);
  });
  afterAll(async () => {
    await storage?.drop();
  });

  it('opens, migrates and serves through the socket with no user, PGUSER and USER unset', async () => {
    const saved = { PGUSER: process.env.PGUSER, USER: process.env.USER };
    delete process.env.PGUSER;
    delete process.env.USER;
    let database: PostgresHandle | undefined;
    try {
      database = await openDatabase({ kind: 'postgres', url: socketUrl(storage.name) });
      const { rows } = await database.pool.query<{ user: string }>('SELECT current_user AS user');
      expect(rows[0]!.user).toBe(osUser);
      const [row] = await database.db.selectFrom('decisions').select((eb) => eb.fn.countAll().as('n')).execute();
      expect(Number(row!.n)).toBe(0);
    } finally {
      await database?.close();
      for (const [key, value] of Object.entries(saved)) if (value !== undefined) process.env[key] = value;
    }
  });
});

describe('withLibpqUser: the user libpq would send', () => {
  const os = () => 'osuser';

  it.each([
    ['postgres:///db?host=/var/run/postgresql', 'postgres:///db?host=/var/run/postgresql&user=osuser'],
    ['postgres://127.0.0.1:5432/db', 'postgres://127.0.0.1:5432/db?user=osuser'],
    ['postgresql://db.corp/countersign?sslmode=require', 'postgresql://db.corp/countersign?sslmode=require&user=osuser'],
  ])('no user in %s → the OS user', (url, expected) => {
    expect(withLibpqUser(url, {}, os)).toBe(expected);
  });

  it('a user in the URL, its query, PGUSER or USER is left to the driver', () => {
    expect(withLibpqUser('postgres://cs@127.0.0.1/db', {}, os)).toBe('postgres://cs@127.0.0.1/db');
    expect(withLibpqUser('postgres:///db?user=cs&host=/tmp', {}, os)).toBe('postgres:///db?user=cs&host=/tmp');
    expect(withLibpqUser('postgres:///db', { PGUSER: 'cs' }, os)).toBe('postgres:///db');
    expect(withLibpqUser('postgres:///db', { USER: 'me' }, os)).toBe('postgres:///db');
    // A form only node-pg reads (user, no host): as written.
    expect(withLibpqUser('postgres://cs@/db?host=/tmp', {}, os)).toBe('postgres://cs@/db?host=/tmp');
  });

  it('an OS user name is percent-encoded; none known leaves the URL as it is', () => {
    expect(withLibpqUser('postgres:///db', {}, () => 'a&b c')).toBe('postgres:///db?user=a%26b%20c');
    expect(withLibpqUser('postgres:///db', {}, () => {
      throw new Error('no passwd entry');
    })).toBe('postgres:///db');
  });
});
