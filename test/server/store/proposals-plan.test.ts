// The pending-proposal listing's cost follows the approver's own proposals, not the table: on SQLite its
// plan starts from the approver's rows (proposal_approvers_user), whatever else is pending — the
// planner used to start from every pending proposal of every approver (bench/growth.ts measured
// p99 ×3 at 10,000 pending). Checked by the query plan, never by timing. Node only (tests).
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteHandle } from '../../../server/db/connect';
import type { Database } from '../../../server/db/schema';
import { insertProposal, pendingCounts, pendingFor, pendingRow, withCreationLock } from '../../../server/store/proposals';
import { FORUM_REQUEST, startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

const NOW = 4_000_000_000_000;

describe('pending-proposal listing on SQLite', () => {
  let v: TestVerifier<SqliteHandle>;

  beforeAll(async () => {
    v = await startVerifier('sqlite');
    // 2,000 pending for 100 other approvers, 5 for alice.
    for (let i = 0; i < 2_005; i++) {
      const row = pendingRow({ agentId: 'agent:a', keyId: 'k1', scope: 'forum.post', summary: `p${i}`, request: FORUM_REQUEST, contentField: null, digest: 'A'.repeat(43), site: 'http://127.0.0.1:8080', createdAt: NOW + i, expiresAt: NOW + 600_000 });
      await withCreationLock(v.database, (trx) => insertProposal(trx, row, [i < 2_000 ? `user${i % 100}` : 'alice']));
    }
  });
  afterAll(() => v.close());

  /** SQLite's plan for each SELECT `run` sends. */
  async function plans(run: (db: Kysely<Database>) => Promise<unknown>): Promise<string[][]> {
    const sent: Array<{ sql: string; parameters: readonly unknown[] }> = [];
    const logged = new Kysely<Database>({ dialect: new SqliteDialect({ database: v.database.sqlite }), log: (e) => void sent.push(e.query) });
    await run(logged);
    return sent.filter((q) => /^select/i.test(q.sql)).map((q) => (v.database.sqlite.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.parameters) as Array<{ detail: string }>).map((r) => r.detail));
  }

  it("lists alice's 5 among 2,005 pending, starting from her approver rows — no scan of all pending proposals", async () => {
    expect((await pendingFor(v.database.db, 'alice', NOW, 20)).map((p) => p.summary)).toEqual(['p2000', 'p2001', 'p2002', 'p2003', 'p2004']);
    const [listing] = await plans((db) => pendingFor(db, 'alice', NOW, 20));
    expect(listing![0]).toMatch(/^SEARCH a USING (COVERING )?INDEX proposal_approvers_user \(user_id=\?\)/);
    expect(listing!.join('\n')).not.toMatch(/proposals_state_expiry|SCAN p\b/);
  });

  it("counts each approver's pending from their own rows too (the per-approver limit on creation)", async () => {
    const counts = await v.database.db.transaction().execute((trx) => pendingCounts(trx, ['alice', 'user7'], NOW));
    expect(Object.fromEntries(counts)).toEqual({ alice: 5, user7: 20 });
    const [counting] = await plans((db) => db.transaction().execute((trx) => pendingCounts(trx, ['alice', 'user7'], NOW)));
    expect(counting![0]).toMatch(/^SEARCH a USING (COVERING )?INDEX proposal_approvers_user \(user_id=\?\)/);
    expect(counting!.join('\n')).not.toMatch(/proposals_state_expiry|SCAN p\b/);
  });
});
