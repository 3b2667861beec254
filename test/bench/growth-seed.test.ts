// Unit tests for bench/growth-seed.ts and bench/growth.ts's pure helpers: seeded rows fit the migrated schema, are unique, keep a replay window ahead, continue a chain; pending spreads; percentiles.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { percentile } from '../../bench/growth';
import { indexList, queryPlans, rowCounts, seedLogChain, seedOtherChains, seedPendingProposals, seedVerifyHistory, spreadPending } from '../../bench/growth-seed';
import type { VerifyTemplate } from '../../bench/growth-seed';
import { migrateToLatest } from '../../server/db/migrations';

let dir: string;
let path: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cs-growth-test-'));
  path = join(dir, 'v.db');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(path) }) });
  await migrateToLatest(db);
  await db.destroy();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const template: VerifyTemplate = { deviceId: 'dev_bench', kid: 'kid-bench', agent: 'agent:bench', approver: 'alice', policyVersion: 'p1', site: 'http://127.0.0.1:8080', receipt: 'x'.repeat(700) };

function all<T>(sql: string): T[] {
  const db = new SQLite(path, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

describe('seedVerifyHistory', () => {
  it('writes one consumed, decisions and receipts row per prior verify into the migrated schema, unique, expiring ahead', () => {
    const nowMs = 1_800_000_000_000;
    seedVerifyHistory(path, 2500, template, { nowMs, windowSeconds: 360 });
    seedVerifyHistory(path, 500, template, { nowMs, windowSeconds: 360 });
    expect(rowCounts(path, ['consumed', 'decisions', 'receipts'])).toEqual({ consumed: 3000, decisions: 3000, receipts: 3000 });
    const [c] = all<{ n: number; min: number; max: number; jtiLen: number }>('SELECT count(DISTINCT iss || jti) AS n, min(expires_at) AS min, max(expires_at) AS max, min(length(jti)) AS jtiLen FROM consumed');
    expect(c!.n).toBe(3000);
    expect(c!.min).toBeGreaterThan(nowMs / 1000);
    expect(c!.max).toBeLessThanOrEqual(nowMs / 1000 + 60 + 360);
    expect(c!.jtiLen).toBe(22);
    const [d] = all<{ traces: number; codes: string; maxTs: number }>("SELECT count(DISTINCT trace_id) AS traces, group_concat(DISTINCT code) AS codes, max(ts) AS maxTs FROM decisions");
    expect(d).toEqual({ traces: 3000, codes: 'allow', maxTs: nowMs - 1000 });
    expect(all<{ t: string }>('SELECT trace_id AS t FROM decisions LIMIT 5').every((r) => /^[0-9a-f]{32}$/.test(r.t))).toBe(true);
    expect(all<{ n: number }>('SELECT count(DISTINCT jti) AS n FROM receipts')[0]!.n).toBe(3000);
    expect(all<{ n: number }>("SELECT count(*) AS n FROM consumed WHERE iss = 'dev_bench'")[0]!.n).toBe(4);
  });
});

describe('seedLogChain / seedOtherChains', () => {
  it('continues a device chain from its stored head, prev linking each event to the last', () => {
    const first = seedLogChain(path, 'dev_a', 10, 1e12);
    expect(first.head.seq).toBe(10);
    const second = seedLogChain(path, 'dev_a', 5, 1e12);
    expect(second.head.seq).toBe(15);
    const rows = all<{ seq: number; hash: string; event: string }>("SELECT seq, hash, event FROM log_events WHERE device_id = 'dev_a' ORDER BY seq");
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    rows.forEach((r, i) => {
      const e = JSON.parse(r.event) as { seq: number; prev: string; hash: string };
      expect(e.seq).toBe(r.seq);
      expect(e.hash).toBe(r.hash);
      expect(e.prev).toBe(i === 0 ? '0'.repeat(64) : rows[i - 1]!.hash);
    });
    expect(all("SELECT epoch, seq, hash FROM chain_heads WHERE device_id = 'dev_a'")).toEqual([{ epoch: 1, seq: 15, hash: rows[14]!.hash }]);
  });

  it('stores other devices\' chains with their heads', () => {
    seedOtherChains(path, 4, 25, 1e12);
    expect(rowCounts(path, ['log_events', 'chain_heads'])).toEqual({ log_events: 100, chain_heads: 4 });
    expect(all<{ seq: number }>('SELECT seq FROM chain_heads').every((r) => r.seq === 25)).toBe(true);
  });
});

describe('seedPendingProposals', () => {
  it('replaces the proposals by clones of the pending one, with their approvers', () => {
    const db = new SQLite(path);
    db.prepare(
      "INSERT INTO proposals (id, agent_id, key_id, scope, summary, request, content_field, digest, site, trace_id, state, created_at, expires_at, quorum) VALUES ('prp_t', 'agent:bench', 'key', 'forum.post', 's', '{}', NULL, 'd', 'http://x', 't', 'pending', 1, 2, 1)",
    ).run();
    db.prepare("INSERT INTO proposal_approvers (proposal_id, user_id) VALUES ('prp_t', 'alice')").run();
    db.close();
    expect(seedPendingProposals(path, spreadPending(45, 'alice', 20), 1e12).total).toBe(45);
    expect(all('SELECT user_id, count(*) AS n FROM proposal_approvers GROUP BY user_id ORDER BY user_id')).toEqual([
      { user_id: 'alice', n: 20 },
      { user_id: 'user-1', n: 20 },
      { user_id: 'user-2', n: 5 },
    ]);
    expect(seedPendingProposals(path, spreadPending(7, 'alice'), 1e12).total).toBe(7);
    expect(rowCounts(path, ['proposals', 'proposal_approvers'])).toEqual({ proposals: 7, proposal_approvers: 7 });
  });
});

describe('indexes and plans', () => {
  it('lists the migrated indexes and flags a full scan', () => {
    expect(indexList(path, ['consumed'])).toContain('consumed: consumed_expiry(expires_at)');
    const [byKey, scan] = queryPlans(path, [
      { name: 'pk', sql: 'SELECT jti FROM consumed WHERE iss = ? AND jti = ?', params: ['a', 'b'] },
      { name: 'scan', sql: 'SELECT * FROM decisions WHERE digest = ?', params: ['d'] },
    ]);
    expect(byKey!.scan).toBe(false);
    expect(scan!.scan).toBe(true);
  });
});

describe('spreadPending', () => {
  it('puts everything on one approver without a cap, else fills approvers up to the cap, the given one first', () => {
    expect(spreadPending(1000, 'alice')).toEqual([{ userId: 'alice', count: 1000 }]);
    const s = spreadPending(1000, 'alice', 20);
    expect(s).toHaveLength(50);
    expect(s[0]).toEqual({ userId: 'alice', count: 20 });
    expect(s.reduce((n, u) => n + u.count, 0)).toBe(1000);
    expect(spreadPending(10, 'alice', 20)).toEqual([{ userId: 'alice', count: 10 }]);
  });
});

describe('percentile', () => {
  it('is the nearest-rank percentile', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile(v, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow(/nothing/);
    expect(() => percentile([1], 101)).toThrow(/0–100/);
  });
});
