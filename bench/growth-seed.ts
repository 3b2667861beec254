// Fast seeding of a verifier's SQLite file for the growth curves (bench/growth.ts): N prior allowed verifies (consumed + decisions + receipts rows), log_events chains, pending proposals, written with better-sqlite3 prepared statements in one transaction while the verifier is stopped; and the query plans of the lookups. Node only (bench).
import { randomFillSync, randomUUID } from 'node:crypto';
import SQLite from 'better-sqlite3';

/** Random bytes drawn in large blocks: one CSPRNG call per many ids. */
class RandomPool {
  private buf = Buffer.alloc(0);
  private at = 0;
  bytes(n: number): Buffer {
    if (this.at + n > this.buf.length) {
      this.buf = randomFillSync(Buffer.alloc(Math.max(1 << 20, n)));
      this.at = 0;
    }
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  /** base64url of 16 random bytes (22 characters): the verifier's jti form (randomBase64url(16)). */
  jti(): string {
    return this.bytes(16).toString('base64url');
  }
  /** A trace id: 32 lower-case hex characters (newTraceId). */
  traceId(): string {
    return this.bytes(16).toString('hex');
  }
  /** A base64url SHA-256 (43 characters): a digest or a cdg. */
  digest(): string {
    return this.bytes(32).toString('base64url');
  }
  /** A hex SHA-256 (64 characters): a log event hash. */
  hash(): string {
    return this.bytes(32).toString('hex');
  }
}

function open(path: string): SQLite.Database {
  const db = new SQLite(path);
  // The verifier is stopped while this runs: no journal, no syncs, a large cache. The verifier puts
  // the file back in WAL mode, synchronous=FULL, when it opens it (server/db/connect.ts).
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -400000');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * Runs `fn` on the file in one transaction; its result and the seconds it took (commit and close
 * included). The secondary indexes of `rebuild` are dropped first and created again after, from the
 * very SQL the migrations stored in sqlite_master (same name, columns, order): one sort per index
 * instead of a random B-tree insert per row.
 */
function seeding<T>(path: string, rebuild: readonly string[], fn: (db: SQLite.Database) => T): { result: T; seconds: number } {
  const start = performance.now();
  const db = open(path);
  try {
    const result = db.transaction(() => {
      const marks = rebuild.map(() => '?').join(', ');
      const indexes = rebuild.length ? (db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${marks})`).all(...rebuild) as Array<{ name: string; sql: string }>) : [];
      for (const i of indexes) db.exec(`DROP INDEX ${JSON.stringify(i.name)}`);
      const out = fn(db);
      for (const i of indexes) db.exec(i.sql);
      return out;
    })();
    return { result, seconds: (performance.now() - start) / 1000 };
  } finally {
    db.close();
  }
}

/** Rows sorted on their first column(s): inserted in primary-key order, each B-tree is written front to back. */
const byKey = (a: readonly unknown[], b: readonly unknown[]) => {
  for (let i = 0; i < 2; i++) {
    const x = String(a[i]);
    const y = String(b[i]);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
};

/** What one real allowed verify wrote, read back from the file: the seeded rows copy its shape. */
export interface VerifyTemplate {
  /** The bench device's id: the `iss` of its tokens. */
  deviceId: string;
  kid: string;
  agent: string;
  approver: string;
  policyVersion: string;
  site: string;
  /** A real receipt (compact JWS): every seeded receipt row is as long. */
  receipt: string;
}

export function readVerifyTemplate(path: string): VerifyTemplate {
  const db = new SQLite(path, { readonly: true });
  try {
    const d = db.prepare("SELECT * FROM decisions WHERE code = 'allow' ORDER BY ts DESC LIMIT 1").get() as { agent: string; approver: string; policy_version: string; kid: string } | undefined;
    const r = db.prepare('SELECT * FROM receipts ORDER BY issued_at DESC LIMIT 1').get() as { site: string; receipt: string } | undefined;
    const c = db.prepare("SELECT iss FROM consumed WHERE iss NOT LIKE 'device-proof:%' LIMIT 1").get() as { iss: string } | undefined;
    if (!d || !r || !c) throw new Error(`no allowed verify in ${path} to copy rows from`);
    return { deviceId: c.iss, kid: d.kid, agent: d.agent, approver: d.approver, policyVersion: d.policy_version, site: r.site, receipt: r.receipt };
  } finally {
    db.close();
  }
}

/** How many devices the seeded history's tokens come from (the bench device is one of them). */
const SEED_DEVICES = 1000;

/**
 * Adds `count` prior allowed verifies, each as the verifier writes one (server/store/decisions/sqlite.ts):
 * a `consumed` (iss, jti) whose expiry is still ahead (within `windowSeconds`, so the maintenance
 * prune keeps them all: a full replay window), its `decisions` allow row (one a second back from
 * now, the audit trail) and its `receipts` row. Unique random jtis, trace ids and digests; tokens
 * from SEED_DEVICES devices and approvers.
 */
export function seedVerifyHistory(path: string, count: number, t: VerifyTemplate, options: { nowMs: number; windowSeconds: number }): { seconds: number } {
  const rnd = new RandomPool();
  const devices = [t.deviceId, ...Array.from({ length: SEED_DEVICES - 1 }, () => `dev_${randomUUID()}`)];
  const nowSeconds = Math.floor(options.nowMs / 1000);
  return seeding(path, ['consumed', 'decisions', 'receipts'], (db) => {
    const consumed: Array<[string, string, number]> = [];
    const decisions: Array<[string, number, string, string, string, string, string, string, string]> = [];
    const receipts: Array<[string, string, string, string, number]> = [];
    for (let i = 0; i < count; i++) {
      const device = i % SEED_DEVICES;
      const ts = options.nowMs - (count - i) * 1000;
      consumed.push([devices[device]!, rnd.jti(), nowSeconds + 60 + (i % options.windowSeconds)]);
      decisions.push([`dec_${randomUUID()}`, ts, 'allow', rnd.traceId(), t.agent, device === 0 ? t.approver : `user-${device}`, rnd.digest(), t.policyVersion, device === 0 ? t.kid : `kid-${device}`]);
      receipts.push([rnd.jti(), t.site, rnd.digest(), t.receipt, ts]);
    }
    const consume = db.prepare('INSERT INTO consumed (iss, jti, expires_at) VALUES (?, ?, ?)');
    const decision = db.prepare('INSERT INTO decisions (id, ts, code, trace_id, agent, approver, digest, policy_version, kid, rule) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)');
    const receipt = db.prepare('INSERT INTO receipts (jti, site, cdg, receipt, issued_at) VALUES (?, ?, ?, ?, ?)');
    for (const r of consumed.sort(byKey)) consume.run(r);
    for (const r of decisions.sort(byKey)) decision.run(r);
    for (const r of receipts.sort(byKey)) receipt.run(r);
  });
}

export interface Head {
  epoch: number;
  seq: number;
  hash: string;
}

/** One stored log event as the verifier keeps it: the event's JSON in `event`, its position and hash beside it. */
function eventJson(deviceId: string, epoch: number, seq: number, prev: string, hash: string, ts: number, trc: string, rnd: RandomPool): string {
  return JSON.stringify({
    deviceId, epoch, seq, prev, id: `e${seq}`, ts, type: seq % 3 === 0 ? 'released' : 'held', trc,
    principal: { kind: 'agent', id: 'agent:bench' }, agent: 'agent:bench', tool: 'intraforum', site: 'http://127.0.0.1:8080',
    digest: rnd.digest(), diff: { kind: 'text', before: null, after: 'A benchmark reply.' }, detail: null, hash,
  });
}

/**
 * Continues `deviceId`'s chain by `count` events from its stored head (a fresh chain, epoch 1, when
 * it has none), prev linking each to the one before, and moves its chain_heads row to the last: the
 * device's next batch continues the chain. Stored hashes are random, not recomputed (ingest checks
 * a batch against the head and the stored hashes in its range, not the whole chain).
 */
export function seedLogChain(path: string, deviceId: string, count: number, nowMs: number): { seconds: number; head: Head } {
  const rnd = new RandomPool();
  const { result, seconds } = seeding(path, ['log_events'], (db) => {
    const row = db.prepare('SELECT epoch, seq, hash FROM chain_heads WHERE device_id = ?').get(deviceId) as Head | undefined;
    let head: Head = row && row.seq > 0 ? { epoch: Number(row.epoch), seq: Number(row.seq), hash: row.hash } : { epoch: 1, seq: 0, hash: '0'.repeat(64) };
    const insert = db.prepare('INSERT INTO log_events (device_id, epoch, seq, hash, trc, type, ts, event, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < count; i++) {
      const seq = head.seq + 1;
      const hash = rnd.hash();
      const trc = rnd.traceId();
      const ts = nowMs - (count - i) * 100;
      insert.run(deviceId, head.epoch, seq, hash, trc, seq % 3 === 0 ? 'released' : 'held', ts, eventJson(deviceId, head.epoch, seq, head.hash, hash, ts, trc, rnd), ts);
      head = { epoch: head.epoch, seq, hash };
    }
    db.prepare('INSERT INTO chain_heads (device_id, epoch, seq, hash, frozen_at) VALUES (?, ?, ?, ?, NULL) ON CONFLICT (device_id) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq, hash = excluded.hash').run(deviceId, head.epoch, head.seq, head.hash);
    return head;
  });
  return { seconds, head: result };
}

/** `devices` other devices' chains of `perDevice` events each, heads stored; none of them is the measured device. */
export function seedOtherChains(path: string, devices: number, perDevice: number, nowMs: number): { seconds: number } {
  const rnd = new RandomPool();
  const ids = Array.from({ length: devices }, () => `dev_${randomUUID()}`).sort();
  return seeding(path, ['log_events'], (db) => {
    const insert = db.prepare('INSERT INTO log_events (device_id, epoch, seq, hash, trc, type, ts, event, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const setHead = db.prepare('INSERT INTO chain_heads (device_id, epoch, seq, hash, frozen_at) VALUES (?, 1, ?, ?, NULL)');
    for (const deviceId of ids) {
      let prev = '0'.repeat(64);
      for (let seq = 1; seq <= perDevice; seq++) {
        const hash = rnd.hash();
        const trc = rnd.traceId();
        const ts = nowMs - (perDevice - seq) * 1000;
        insert.run(deviceId, 1, seq, hash, trc, seq % 3 === 0 ? 'released' : 'held', ts, eventJson(deviceId, 1, seq, prev, hash, ts, trc, rnd), ts);
        prev = hash;
      }
      setHead.run(deviceId, perDevice, prev);
    }
  });
}

/**
 * Replaces every proposal with clones of the one real pending proposal in the file (its request,
 * scope, agent; fresh ids, trace ids and digests), `perUser[u]` pending for user u, oldest first a
 * second apart, none expiring within the hour. Direct writes: the API caps a person's pending
 * proposals at 20 (PROPOSAL_LIMITS.pendingPerApprover), a seed may go past it.
 */
export function seedPendingProposals(path: string, perUser: ReadonlyArray<{ userId: string; count: number }>, nowMs: number): { seconds: number; total: number } {
  const rnd = new RandomPool();
  const { result, seconds } = seeding(path, [], (db) => {
    const template = db.prepare("SELECT * FROM proposals WHERE state = 'pending' ORDER BY created_at LIMIT 1").get() as Record<string, unknown> | undefined;
    if (!template) throw new Error(`no pending proposal in ${path} to copy`);
    db.prepare('DELETE FROM proposals WHERE id != ?').run(template['id']);
    const columns = Object.keys(template);
    const insert = db.prepare(`INSERT INTO proposals (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
    const approver = db.prepare('INSERT INTO proposal_approvers (proposal_id, user_id) VALUES (?, ?)');
    const total = perUser.reduce((n, u) => n + u.count, 0);
    let k = 0;
    for (const { userId, count } of perUser) {
      for (let i = 0; i < count; i++, k++) {
        const id = `prp_${rnd.jti()}`;
        insert.run({ ...template, id, trace_id: rnd.traceId(), digest: rnd.digest(), created_at: nowMs - (total - k) * 1000, expires_at: nowMs + 3_600_000 });
        approver.run(id, userId);
      }
    }
    // The template itself goes: exactly `total` remain.
    db.prepare('DELETE FROM proposals WHERE id = ?').run(template['id']);
    return db.prepare("SELECT count(*) AS n FROM proposals WHERE state = 'pending'").get() as { n: number };
  });
  return { seconds, total: result.n };
}

/** How `perUser` spreads `total` pending proposals: all for `userId`, or at most `cap` each over as many users as it takes (`userId` first). */
export function spreadPending(total: number, userId: string, cap?: number): Array<{ userId: string; count: number }> {
  if (cap === undefined) return [{ userId, count: total }];
  const out: Array<{ userId: string; count: number }> = [];
  for (let left = total, u = 0; left > 0; u++) {
    const count = Math.min(cap, left);
    out.push({ userId: u === 0 ? userId : `user-${u}`, count });
    left -= count;
  }
  return out;
}

export function rowCounts(path: string, tables: readonly string[]): Record<string, number> {
  const db = new SQLite(path, { readonly: true });
  try {
    return Object.fromEntries(tables.map((t) => [t, Number((db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n)]));
  } finally {
    db.close();
  }
}

/** Every index on `tables`, as `table: index(columns)`. */
export function indexList(path: string, tables: readonly string[]): string[] {
  const db = new SQLite(path, { readonly: true });
  try {
    return tables.flatMap((t) =>
      (db.prepare(`PRAGMA index_list(${t})`).all() as Array<{ name: string }>).map((i) => {
        const cols = (db.prepare(`PRAGMA index_info(${JSON.stringify(i.name)})`).all() as Array<{ name: string }>).map((c) => c.name);
        return `${t}: ${i.name}(${cols.join(', ')})`;
      }),
    );
  } finally {
    db.close();
  }
}

/** SQLite's EXPLAIN QUERY PLAN of each statement, its detail lines joined; `scan` when a step reads a whole table or index (SCAN). */
export function queryPlans(path: string, statements: ReadonlyArray<{ name: string; sql: string; params?: unknown[] }>): Array<{ name: string; plan: string; scan: boolean }> {
  const db = new SQLite(path, { readonly: true });
  try {
    return statements.map(({ name, sql, params }) => {
      const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(params ?? [])) as Array<{ detail: string }>;
      const details = rows.map((r) => r.detail);
      return { name, plan: details.join('; '), scan: details.some((d) => /\bSCAN\b/.test(d) && !/CONSTANT ROW/.test(d)) };
    });
  } finally {
    db.close();
  }
}
