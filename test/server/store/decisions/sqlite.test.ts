// SQLite's group commit: nothing is acknowledged before its COMMIT and the WAL fsync after it, a
// failed COMMIT or fsync fails the group closed, and a group never joins another writer's open
// transaction. Node only (tests).
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteHandle } from '../../../../server/db/connect';
import { createDecisionWriter } from '../../../../server/store/decisions';
import type { DecisionFacts, DecisionWriter } from '../../../../server/store/decisions';
import { T0, startVerifier } from '../../../helpers/verifier';
import type { TestVerifier } from '../../../helpers/verifier';

const facts: Omit<DecisionFacts, 'code'> = { traceId: null, agent: 'agent:a', approver: 'alice', digest: null, policyVersion: 'sha256:0000000000000000', kid: 'k' };
let next = 0;
const freshJti = () => `jti-${process.pid}-${next++}-aaaaaaaaaaaaaaaa`;
const turn = () => new Promise((r) => setImmediate(r));

describe('SQLite group commit', () => {
  let v: TestVerifier<SqliteHandle>;
  let writer: DecisionWriter;
  let file: string;

  beforeAll(async () => {
    v = await startVerifier('sqlite');
    writer = createDecisionWriter(v.database);
    file = v.database.sqlite.name;
  });
  afterAll(async () => {
    await writer.close();
    await v.close();
  });

  it('R-10: a caller is answered only after the COMMIT holding its row — another connection already sees it', async () => {
    const other = new Database(file, { readonly: true });
    try {
      const jtis = Array.from({ length: 20 }, freshJti);
      const seen = await Promise.all(
        jtis.map(async (jti) => {
          await writer.consumeAndAllow({ iss: 'dev_a', jti, expiresAt: 2_000_000_000 }, facts, T0);
          // Checked synchronously at the moment of the answer.
          return { open: v.database.sqlite.inTransaction, visible: other.prepare('SELECT count(*) AS n FROM consumed WHERE jti = ?').get(jti) as { n: number } };
        }),
      );
      for (const s of seen) expect(s).toEqual({ open: false, visible: { n: 1 } });
    } finally {
      other.close();
    }
  });

  it('R-10: nobody is answered before the WAL fsync, and that fsync starts only after the COMMIT', async () => {
    const other = new Database(file, { readonly: true });
    const jti = freshJti();
    let release!: () => void;
    const syncs: Array<{ committed: boolean }> = [];
    const gated = createDecisionWriter(v.database, {
      syncWal: {
        sync: async () => {
          syncs.push({ committed: !v.database.sqlite.inTransaction && (other.prepare('SELECT count(*) AS n FROM consumed WHERE jti = ?').get(jti) as { n: number }).n === 1 });
          await new Promise<void>((r) => (release = r));
        },
        close: () => undefined,
      },
    });
    try {
      let answered = false;
      const write = gated.consumeAndAllow({ iss: 'dev_a', jti, expiresAt: 2_000_000_000 }, facts, T0).then((r) => ((answered = true), r));
      while (syncs.length === 0) await turn();
      for (let i = 0; i < 5; i++) await turn();
      expect(syncs).toEqual([{ committed: true }]);
      expect(answered).toBe(false);
      release();
      expect(await write).toBe(true);
      // Other writers on the connection still commit with synchronous=FULL.
      expect(v.database.sqlite.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      await gated.close();
      other.close();
    }
  });

  it('A-08: a failed WAL fsync refuses its group and every later write (fail closed until restart)', async () => {
    const failing = createDecisionWriter(v.database, { syncWal: { sync: () => Promise.reject(new Error('EIO')), close: () => undefined } });
    try {
      const first = await Promise.allSettled([failing.consumeAndAllow({ iss: 'dev_a', jti: freshJti(), expiresAt: 2_000_000_000 }, facts, T0), failing.recordRefusal({ ...facts, code: 'replayed' }, T0)]);
      expect(first.map((s) => s.status)).toEqual(['rejected', 'rejected']);
      await expect(failing.consumeAndAllow({ iss: 'dev_a', jti: freshJti(), expiresAt: 2_000_000_000 }, facts, T0)).rejects.toThrow(/fsync failed/);
    } finally {
      await failing.close();
    }
  });

  it('never writes into a Kysely transaction left open across an await: that rollback does not undo a consumption', async () => {
    const jti = freshJti();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let consumed: boolean | undefined;
    const transaction = v.database.db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('kills').values({ id: 'kill_rolled_back', scope: 'global', target: null, since: T0, lifted_at: null }).execute();
        await gate;
        throw new Error('roll back');
      })
      .catch(() => 'rolled back');
    const write = writer.consumeAndAllow({ iss: 'dev_a', jti, expiresAt: 2_000_000_000 }, facts, T0).then((r) => (consumed = r));
    for (let i = 0; i < 5; i++) await turn();
    // The group waits for the connection instead of joining the open transaction.
    expect(consumed).toBeUndefined();
    release();
    expect(await transaction).toBe('rolled back');
    await write;
    expect(consumed).toBe(true);
    expect(await rows(v, jti)).toEqual({ consumed: 1 });
    expect(await v.database.db.selectFrom('kills').select('id').where('id', '=', 'kill_rolled_back').execute()).toEqual([]);
  });

  it('A-08: when the group cannot commit (database locked), every caller of the group is refused and nothing is kept', async () => {
    const sqlite = v.database.sqlite;
    const timeout = sqlite.pragma('busy_timeout', { simple: true }) as number;
    const locker = new Database(file);
    sqlite.pragma('busy_timeout = 20');
    const jtis = [freshJti(), freshJti(), freshJti()];
    try {
      locker.exec('BEGIN IMMEDIATE');
      const settled = await Promise.allSettled([
        ...jtis.map((jti) => writer.consumeAndAllow({ iss: 'dev_a', jti, expiresAt: 2_000_000_000 }, facts, T0)),
        writer.recordRefusal({ ...facts, code: 'signature_invalid' }, T0),
      ]);
      expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
      sqlite.pragma(`busy_timeout = ${timeout}`);
    }
    for (const jti of jtis) expect(await rows(v, jti)).toEqual({ consumed: 0 });
    // Once the lock is gone the same tokens can be decided (their refusal consumed nothing).
    expect(await writer.consumeAndAllow({ iss: 'dev_a', jti: jtis[0]!, expiresAt: 2_000_000_000 }, facts, T0)).toBe(true);
  });
});

async function rows(v: TestVerifier, jti: string): Promise<{ consumed: number }> {
  const consumed = await v.database.db.selectFrom('consumed').select('jti').where('jti', '=', jti).execute();
  return { consumed: consumed.length };
}
