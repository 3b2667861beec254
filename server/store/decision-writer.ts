// Durable verify decisions: the replay insert with its allow record, and refusal records. SQLite
// commits them in groups (one synchronous=FULL transaction per event-loop turn); PostgreSQL writes
// each decision as one atomic statement over its connection pool. Node only.
import type SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { DatabaseHandle } from '../db/connect';
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
  /** Resolves when every write queued so far has settled (before the database closes). */
  drain(): Promise<void>;
}

export function createDecisionWriter(database: DatabaseHandle): DecisionWriter {
  if (database.dialect === 'sqlite') {
    if (!database.sqlite) throw new TypeError('a SQLite handle needs its raw connection');
    return new SqliteGroupCommit(database.db, database.sqlite);
  }
  return new PostgresDecisionWriter(database.db);
}


type Job =
  | { kind: 'allow'; entry: ConsumeRequest; row: ReturnType<typeof decisionRow>; settle: Settle<boolean> }
  | { kind: 'refusal'; row: ReturnType<typeof decisionRow>; settle: Settle<void> };

interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: boolean } | { ok: false; error: unknown };

/**
 * Group commit on SQLite. Writes queued during one event-loop turn are committed together in one
 * transaction on the next (setImmediate), so N concurrent decisions cost one WAL fsync instead of
 * N. Each caller is answered only after the COMMIT that contains its row returned (R-10: never
 * acknowledge ahead of the fsync); if the COMMIT fails, every caller of the group gets the error
 * (fail closed). Each job runs under its own savepoint, so one bad row fails only its own caller.
 * The replay check stays inside the transaction: a second use of a jti in the same group finds the
 * first one's row and is refused as replayed.
 */
class SqliteGroupCommit implements DecisionWriter {
  private queue: Job[] = [];
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();
  private readonly statements: {
    begin: SQLite.Statement;
    commit: SQLite.Statement;
    rollback: SQLite.Statement;
    savepoint: SQLite.Statement;
    release: SQLite.Statement;
    rollbackTo: SQLite.Statement;
    consume: SQLite.Statement;
    decision: SQLite.Statement;
  };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlite: SQLite.Database,
  ) {
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
    };
  }

  consumeAndAllow(entry: ConsumeRequest, facts: Omit<DecisionFacts, 'code'>, now: number): Promise<boolean> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'allow', entry, row: decisionRow({ ...facts, code: 'allow' }, now), settle: { resolve, reject } }));
  }

  recordRefusal(facts: DecisionFacts, now: number): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'refusal', row: decisionRow(facts, now), settle: { resolve, reject } }));
  }

  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      if (this.queue.length > 0 && !this.scheduled) this.schedule();
      await Promise.all([...this.inFlight, new Promise((r) => setImmediate(r))]);
    }
  }

  private enqueue(job: Job): void {
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
      // Kysely's SQLite driver shares this one connection behind a mutex and may hold it across
      // awaits inside a transaction (log ingest): take the mutex, so the group is never written
      // into someone else's open transaction. Inside, the whole group is synchronous.
      outcomes = await this.db.connection().execute(async () => this.commitGroup(jobs));
    } catch (error) {
      for (const job of jobs) job.settle.reject(error);
      return;
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
    s.begin.run();
    try {
      const outcomes = jobs.map((job) => this.apply(job));
      s.commit.run();
      return outcomes;
    } catch (error) {
      if (this.sqlite.inTransaction) s.rollback.run();
      throw error;
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

  constructor(private readonly db: Kysely<Database>) {}

  consumeAndAllow(entry: ConsumeRequest, facts: Omit<DecisionFacts, 'code'>, now: number): Promise<boolean> {
    const r = decisionRow({ ...facts, code: 'allow' }, now);
    const query = sql<{ id: string }>`
      WITH fresh AS (
        INSERT INTO consumed (iss, jti, expires_at) VALUES (${entry.iss}, ${entry.jti}, ${entry.expiresAt})
        ON CONFLICT (iss, jti) DO NOTHING
        RETURNING jti
      )
      INSERT INTO decisions (id, ts, code, trace_id, agent, approver, digest, policy_version, kid)
      SELECT ${r.id}::text, ${r.ts}::bigint, ${r.code}::text, ${r.trace_id}::text, ${r.agent}::text, ${r.approver}::text, ${r.digest}::text, ${r.policy_version}::text, ${r.kid}::text
      FROM fresh
      RETURNING id`.execute(this.db);
    return this.track(query.then((result) => result.rows.length === 1));
  }

  recordRefusal(facts: DecisionFacts, now: number): Promise<void> {
    return this.track(this.db.insertInto('decisions').values(decisionRow(facts, now)).execute().then(() => undefined));
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(write: Promise<T>): Promise<T> {
    this.inFlight.add(write);
    const forget = () => this.inFlight.delete(write);
    write.then(forget, forget);
    return write;
  }
}
