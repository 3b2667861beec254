// Durable verify decisions: the replay insert with its allow record, and refusal records. SQLite
// commits them in groups (one transaction per event-loop turn, made durable by one WAL fsync off the
// event loop); PostgreSQL writes each decision as one atomic statement over its pool. Node only.
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { DatabaseHandle } from '../db/connect';
import { pgStatement } from '../db/prepared';
import { walSync } from '../db/wal-sync';
import type { WalSync } from '../db/wal-sync';
import type { Database } from '../db/schema';
import { decisionRow } from './decisions';
import type { DecisionFacts } from './decisions';

export interface ConsumeRequest {
  iss: string;
  jti: string;
  /** Seconds: exp + skew. */
  expiresAt: number;
}

export interface DecisionWriter {
  /**
   * Inserts (iss, jti) — unique key, so concurrent uses of one token race on the index, never on a
   * read — and, atomically with it, the allow decision. Resolves only once that is durable: true
   * when this call consumed the jti, false when it was already consumed.
   */
  consumeAndAllow(entry: ConsumeRequest, facts: Omit<DecisionFacts, 'code'>, now: number): Promise<boolean>;
  /** Records a refusal; resolves once it is durable. */
  recordRefusal(facts: DecisionFacts, now: number): Promise<void>;
  /** Settles every write queued so far and releases the writer's resources (before the database closes). */
  close(): Promise<void>;
}

export interface DecisionWriterOptions {
  /** SQLite: how the WAL is made durable after a group's COMMIT (tests inject one; default: fsync of the -wal file). */
  syncWal?: WalSync;
}

export function createDecisionWriter(database: DatabaseHandle, options: DecisionWriterOptions = {}): DecisionWriter {
  if (database.dialect === 'sqlite') {
    if (!database.sqlite) throw new TypeError('a SQLite handle needs its raw connection');
    return new SqliteGroupCommit(database.db, database.sqlite, options.syncWal);
  }
  if (!database.pool) throw new TypeError('a PostgreSQL handle needs its pool');
  return new PostgresDecisionWriter(database.pool);
}


type Job =
  | { kind: 'allow'; entry: ConsumeRequest; row: ReturnType<typeof decisionRow>; settle: Settle<boolean> }
  | { kind: 'refusal'; row: ReturnType<typeof decisionRow>; settle: Settle<void> };

interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: boolean } | { ok: false; error: unknown };

/** SQLite's `PRAGMA synchronous` levels. */
const SYNC_NORMAL = 1;
const SYNC_FULL = 2;

/**
 * Group commit on SQLite. Writes queued during one event-loop turn are committed together in one
 * transaction on the next (setImmediate), so N concurrent decisions cost one WAL fsync instead of N,
 * and that fsync runs on the thread pool while the event loop goes on deciding the next group.
 *
 * Durability is that of `synchronous=FULL` (what the connection is opened with): FULL syncs the WAL
 * after each commit; here the group commits with NORMAL (same WAL frames, no sync) and every
 * caller is answered only after an fsync of the WAL file that began after its COMMIT returned
 * never acknowledged ahead of the fsync). A later fsync covers every earlier frame of the
 * file, and a checkpoint that resets the WAL first syncs the WAL and the database (SQLite does so
 * under NORMAL too), so a group's rows are on stable storage before anyone hears of them. Other
 * writers on the connection (log ingest, admin) keep committing with FULL.
 *
 * A failed COMMIT refuses every caller of the group (fail closed). A failed fsync does too, and
 * also every later write: after a failed fsync the kernel may have dropped the dirty pages, so
 * nothing written since can be trusted to be durable until the verifier restarts (503 until then).
 * Each job runs under its own savepoint, so one bad row fails only its own caller. The replay check
 * stays inside the transaction: a second use of a jti in the same group finds the first one's row
 * and reads as replayed.
 */
class SqliteGroupCommit implements DecisionWriter {
  private queue: Job[] = [];
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();
  private closed = false;
  /** Set once an fsync failed: from then on every write is refused. */
  private broken: unknown;
  /** The WAL fsync done after each group; undefined when each COMMIT syncs by itself. */
  private readonly wal: WalSync | undefined;
  private readonly syncLevel: number;
  private readonly statements: {
    begin: SQLite.Statement;
    commit: SQLite.Statement;
    rollback: SQLite.Statement;
    savepoint: SQLite.Statement;
    release: SQLite.Statement;
    rollbackTo: SQLite.Statement;
    consume: SQLite.Statement;
    decision: SQLite.Statement;
    deferSync: SQLite.Statement;
    restoreSync: SQLite.Statement;
  };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlite: SQLite.Database,
    syncWal: WalSync | undefined,
  ) {
    this.syncLevel = Number(sqlite.pragma('synchronous', { simple: true }));
    const walMode = String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    // Only a durable (FULL or EXTRA) WAL connection needs the fsync, and only a WAL can be synced
    // after the fact; anything else commits exactly as the connection is configured.
    this.wal = walMode && this.syncLevel >= SYNC_FULL ? (syncWal ?? walSync(`${sqlite.name}-wal`)) : undefined;
    this.statements = {
      begin: sqlite.prepare('BEGIN IMMEDIATE'),
      commit: sqlite.prepare('COMMIT'),
      rollback: sqlite.prepare('ROLLBACK'),
      savepoint: sqlite.prepare('SAVEPOINT decision'),
      release: sqlite.prepare('RELEASE decision'),
      rollbackTo: sqlite.prepare('ROLLBACK TO decision'),
      consume: sqlite.prepare('INSERT INTO consumed (iss, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT (iss, jti) DO NOTHING'),
      decision: sqlite.prepare(
        'INSERT INTO decisions (id, ts, code, trace_id, agent, approver, digest, policy_version, kid) VALUES (@id, @ts, @code, @trace_id, @agent, @approver, @digest, @policy_version, @kid)',
      ),
      deferSync: sqlite.prepare(`PRAGMA synchronous = ${SYNC_NORMAL}`),
      restoreSync: sqlite.prepare(`PRAGMA synchronous = ${this.syncLevel}`),
    };
  }

  consumeAndAllow(entry: ConsumeRequest, facts: Omit<DecisionFacts, 'code'>, now: number): Promise<boolean> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'allow', entry, row: decisionRow({ ...facts, code: 'allow' }, now), settle: { resolve, reject } }));
  }

  recordRefusal(facts: DecisionFacts, now: number): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'refusal', row: decisionRow(facts, now), settle: { resolve, reject } }));
  }

  async close(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      if (this.queue.length > 0 && !this.scheduled) this.schedule();
      await Promise.all([...this.inFlight, new Promise((r) => setImmediate(r))]);
    }
    this.closed = true;
    this.wal?.close();
  }

  private enqueue(job: Job): void {
    if (this.closed) {
      job.settle.reject(new Error('the decision writer is closed'));
      return;
    }
    this.queue.push(job);
    if (!this.scheduled) this.schedule();
  }

  private schedule(): void {
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const jobs = this.queue;
      this.queue = [];
      const flight = this.flush(jobs);
      this.inFlight.add(flight);
      void flight.finally(() => this.inFlight.delete(flight));
    });
  }

  private async flush(jobs: Job[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      if (this.broken !== undefined) throw new Error('an earlier WAL fsync failed; restart the verifier', { cause: this.broken });
      // Kysely's SQLite driver shares this one connection behind a mutex and may hold it across
      // awaits inside a transaction (log ingest): take the mutex, so the group is never written
      // into someone else's open transaction. Inside, the whole group is synchronous.
      outcomes = await this.db.connection().execute(async () => this.commitGroup(jobs));
    } catch (error) {
      for (const job of jobs) job.settle.reject(error);
      return;
    }
    if (this.wal) {
      try {
        await this.wal.sync();
      } catch (error) {
        this.broken ??= error;
        for (const job of jobs) job.settle.reject(error);
        return;
      }
    }
    jobs.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) job.settle.reject(outcome.error);
      else if (job.kind === 'allow') job.settle.resolve(outcome.value);
      else job.settle.resolve();
    });
  }

  /** One transaction for the group; throws (after rolling back) if it cannot be committed. */
  private commitGroup(jobs: Job[]): Outcome[] {
    const s = this.statements;
    if (this.sqlite.inTransaction) throw new Error('the SQLite connection is inside another transaction');
    // The sync level is restored before anything else can run on the connection (this is synchronous).
    if (this.wal) s.deferSync.run();
    try {
      s.begin.run();
      try {
        const outcomes = jobs.map((job) => this.apply(job));
        s.commit.run();
        return outcomes;
      } catch (error) {
        if (this.sqlite.inTransaction) s.rollback.run();
        throw error;
      }
    } finally {
      if (this.wal) s.restoreSync.run();
    }
  }

  private apply(job: Job): Outcome {
    const s = this.statements;
    s.savepoint.run();
    try {
      let value = true;
      if (job.kind === 'allow') {
        value = s.consume.run(job.entry.iss, job.entry.jti, job.entry.expiresAt).changes === 1;
        if (value) s.decision.run(job.row);
      } else {
        s.decision.run(job.row);
      }
      s.release.run();
      return { ok: true, value };
    } catch (error) {
      s.rollbackTo.run();
      s.release.run();
      return { ok: false, error };
    }
  }
}

/**
 * PostgreSQL: one statement per decision, so one round trip and no explicit transaction. The insert
 * into `decisions` reads the CTE that inserted (iss, jti): it adds the allow record exactly when this
 * statement consumed the jti, and both commit or neither. Concurrent uses of one jti serialise on
 * the unique index; the losers insert nothing and read as replayed. The pool's connections commit
 * in parallel and PostgreSQL flushes their WAL together.
 */
class PostgresDecisionWriter implements DecisionWriter {
  private inFlight = new Set<Promise<unknown>>();
  private readonly consume: <R>(values: unknown[]) => Promise<R[]>;
  private readonly refusal: <R>(values: unknown[]) => Promise<R[]>;

  constructor(pool: pg.Pool) {
    // Named statements: parsed and planned once per pooled connection.
    this.consume = pgStatement(
      `WITH fresh AS (
        INSERT INTO consumed (iss, jti, expires_at) VALUES ($1, $2, $3)
        ON CONFLICT (iss, jti) DO NOTHING
        RETURNING jti
      )
      INSERT INTO decisions (id, ts, code, trace_id, agent, approver, digest, policy_version, kid)
      SELECT $4::text, $5::bigint, $6::text, $7::text, $8::text, $9::text, $10::text, $11::text, $12::text
      FROM fresh
      RETURNING id`,
      pool,
    );
    this.refusal = pgStatement(
      'INSERT INTO decisions (id, ts, code, trace_id, agent, approver, digest, policy_version, kid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      pool,
    );
  }

  consumeAndAllow(entry: ConsumeRequest, facts: Omit<DecisionFacts, 'code'>, now: number): Promise<boolean> {
    const r = decisionRow({ ...facts, code: 'allow' }, now);
    const inserted = this.consume([entry.iss, entry.jti, entry.expiresAt, ...decisionValues(r)]);
    return this.track(inserted.then((rows) => rows.length === 1));
  }

  recordRefusal(facts: DecisionFacts, now: number): Promise<void> {
    return this.track(this.refusal(decisionValues(decisionRow(facts, now))).then(() => undefined));
  }

  async close(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(write: Promise<T>): Promise<T> {
    this.inFlight.add(write);
    const forget = () => this.inFlight.delete(write);
    write.then(forget, forget);
    return write;
  }
}

/** A decision row's values in the column order of the INSERTs above. */
function decisionValues(r: ReturnType<typeof decisionRow>): unknown[] {
  return [r.id, r.ts, r.code, r.trace_id, r.agent, r.approver, r.digest, r.policy_version, r.kid];
}
