// Verify decisions on SQLite: group commit, one transaction per event-loop turn, made durable by one
// fsync of the WAL on the thread pool before anyone is answered. Node only.
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import { walSync } from '../../db/wal-sync';
import type { WalSync } from '../../db/wal-sync';
import { GroupCommit } from './queue';
import type { Job, JobResult } from './queue';

/** SQLite's `PRAGMA synchronous` levels. */
const SYNC_NORMAL = 1;
const SYNC_FULL = 2;

/**
 * N concurrent decisions cost one WAL fsync instead of N, and that fsync runs on the thread pool
 * while the event loop goes on deciding the next group.
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
 * A group runs without savepoints; if any statement fails it is rolled back and run again with a
 * savepoint per job, so one bad row fails only its own caller. The replay check
 * stays inside the transaction: a second use of a jti in the same group finds the first one's row
 * and reads as replayed.
 */
export class SqliteGroupCommit extends GroupCommit {
  /** Set once an fsync failed: from then on every write is refused. */
  private broken: unknown;
  /** The WAL fsync done after each group; undefined when each COMMIT syncs by itself. */
  private readonly wal: WalSync | undefined;
  private readonly statements: Record<
    'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo' | 'consume' | 'decision' | 'receipt' | 'deferSync' | 'restoreSync',
    SQLite.Statement
  >;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlite: SQLite.Database,
    syncWal?: WalSync,
  ) {
    super();
    const syncLevel = Number(sqlite.pragma('synchronous', { simple: true }));
    const walMode = String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    // Only a durable (FULL or EXTRA) WAL connection needs the fsync, and only a WAL can be synced
    // after the fact; anything else commits exactly as the connection is configured.
    this.wal = walMode && syncLevel >= SYNC_FULL ? (syncWal ?? walSync(`${sqlite.name}-wal`)) : undefined;
    this.statements = {
      begin: sqlite.prepare('BEGIN IMMEDIATE'),
      commit: sqlite.prepare('COMMIT'),
      rollback: sqlite.prepare('ROLLBACK'),
      savepoint: sqlite.prepare('SAVEPOINT decision'),
      release: sqlite.prepare('RELEASE decision'),
      rollbackTo: sqlite.prepare('ROLLBACK TO decision'),
      consume: sqlite.prepare('INSERT INTO consumed (iss, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT (iss, jti) DO NOTHING'),
      decision: sqlite.prepare(
        'INSERT INTO decisions (id, ts, code, trace_id, agent, approver, digest, policy_version, kid, rule) VALUES (@id, @ts, @code, @trace_id, @agent, @approver, @digest, @policy_version, @kid, @rule)',
      ),
      receipt: sqlite.prepare('INSERT INTO receipts (jti, site, cdg, receipt, issued_at) VALUES (@jti, @site, @cdg, @receipt, @issued_at)'),
      deferSync: sqlite.prepare(`PRAGMA synchronous = ${SYNC_NORMAL}`),
      restoreSync: sqlite.prepare(`PRAGMA synchronous = ${syncLevel}`),
    };
  }

  protected async flush(jobs: Job[]): Promise<JobResult[]> {
    if (this.broken !== undefined) throw new Error('an earlier WAL fsync failed; restart the verifier', { cause: this.broken });
    // Kysely's SQLite driver shares this one connection behind a mutex and may hold it across
    // awaits inside a transaction (log ingest): take the mutex, so the group is never written into
    // someone else's open transaction. Inside, the whole group is synchronous.
    const results = await this.db.connection().execute(async () => this.commitGroup(jobs));
    if (this.wal) {
      try {
        await this.wal.sync();
      } catch (error) {
        this.broken ??= error;
        throw error;
      }
    }
    return results;
  }

  protected override release(): void {
    this.wal?.close();
  }

  /** One transaction for the group; throws (after rolling back) if it cannot be committed. */
  private commitGroup(jobs: Job[]): JobResult[] {
    const s = this.statements;
    if (this.sqlite.inTransaction) throw new Error('the SQLite connection is inside another transaction');
    // The sync level is restored before anything else can run on the connection (this is synchronous).
    if (this.wal) s.deferSync.run();
    try {
      s.begin.run();
      try {
        let results: JobResult[];
        try {
          results = jobs.map((job) => this.applyFast(job));
        } catch {
          // A statement failed: start the group again with a savepoint per job, so only that job fails.
          if (this.sqlite.inTransaction) s.rollback.run();
          s.begin.run();
          results = jobs.map((job) => this.apply(job));
        }
        s.commit.run();
        return results;
      } catch (error) {
        if (this.sqlite.inTransaction) s.rollback.run();
        throw error;
      }
    } finally {
      if (this.wal) s.restoreSync.run();
    }
  }

  /**
   * A job without a savepoint of its own (three statements fewer): a single-token allow whose jti is
   * already consumed wrote nothing, so there is nothing to undo. Throws if any statement fails (the
   * caller then redoes the whole group with apply); a quorum's tokens still get their savepoint.
   */
  private applyFast(job: Job): JobResult {
    const s = this.statements;
    if (job.kind === 'refusal') {
      s.decision.run(job.row);
      return { ok: true, value: true };
    }
    if (job.entries.length !== 1) {
      const result = this.apply(job);
      if (!result.ok) throw result.error;
      return result;
    }
    const entry = job.entries[0]!;
    if (s.consume.run(entry.iss, entry.jti, entry.expiresAt).changes !== 1) return { ok: true, value: false };
    s.decision.run(job.row);
    if (job.receipt) s.receipt.run(job.receipt);
    return { ok: true, value: true };
  }

  private apply(job: Job): JobResult {
    const s = this.statements;
    s.savepoint.run();
    try {
      let value = true;
      if (job.kind === 'allow') {
        // Every jti of the request, or none: one already consumed undoes the others (a quorum's
        // tokens are consumed together).
        value = job.entries.every((entry) => s.consume.run(entry.iss, entry.jti, entry.expiresAt).changes === 1);
        if (!value) {
          s.rollbackTo.run();
          s.release.run();
          return { ok: true, value };
        }
        s.decision.run(job.row);
        if (job.receipt) s.receipt.run(job.receipt);
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
