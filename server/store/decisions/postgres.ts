// Verify decisions on PostgreSQL: each event-loop turn's decisions in one statement, so one commit
// and one WAL flush for the group; one statement per decision if the group's fails. Node only.
import type pg from 'pg';
import { pgStatement } from '../../db/prepared';
import type { ReceiptRow } from '../receipts';
import { GroupCommit } from './queue';
import type { Job, JobResult } from './queue';
import type { DecisionRow } from './records';

/**
 * The whole group as arrays (one named statement whatever its size). `fresh` inserts the (iss, jti)
 * of the allows — the unique index decides, also against other groups and other replicas committing
 * at the same time — and the decisions and receipts inserts keep an allow's record and its receipt
 * exactly when its jti was inserted here; refusals (iss null) are recorded as they are. One
 * statement is one transaction: all of it commits or none.
 */
const GROUP = `WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::bigint[], $18::text[])
    AS t(iss, jti, expires_at, id, ts, code, trace_id, agent, approver, digest, policy_version, kid, receipt_jti, site, cdg, receipt, issued_at, rule)
), fresh AS (
  INSERT INTO consumed (iss, jti, expires_at)
  SELECT iss, jti, expires_at FROM input WHERE iss IS NOT NULL
  ON CONFLICT (iss, jti) DO NOTHING
  RETURNING iss, jti
), kept AS (
  INSERT INTO receipts (jti, site, cdg, receipt, issued_at)
  SELECT i.receipt_jti, i.site, i.cdg, i.receipt, i.issued_at
  FROM input i JOIN fresh f ON f.iss = i.iss AND f.jti = i.jti
  WHERE i.receipt_jti IS NOT NULL
)
INSERT INTO decisions (id, ts, code, trace_id, agent, approver, digest, policy_version, kid, rule)
SELECT i.id, i.ts, i.code, i.trace_id, i.agent, i.approver, i.digest, i.policy_version, i.kid, i.rule
FROM input i LEFT JOIN fresh f ON f.iss = i.iss AND f.jti = i.jti
WHERE i.iss IS NULL OR f.jti IS NOT NULL
RETURNING id`;

/** One allow on its own: the same statement shape for a single row. */
const ONE_ALLOW = `WITH fresh AS (
  INSERT INTO consumed (iss, jti, expires_at) VALUES ($1, $2, $3)
  ON CONFLICT (iss, jti) DO NOTHING
  RETURNING jti
), kept AS (
  INSERT INTO receipts (jti, site, cdg, receipt, issued_at)
  SELECT $13::text, $14::text, $15::text, $16::text, $17::bigint
  FROM fresh
  WHERE $13::text IS NOT NULL
)
INSERT INTO decisions (id, ts, code, trace_id, agent, approver, digest, policy_version, kid, rule)
SELECT $4::text, $5::bigint, $6::text, $7::text, $8::text, $9::text, $10::text, $11::text, $12::text, $18::text
FROM fresh
RETURNING id`;

const ONE_REFUSAL = 'INSERT INTO decisions (id, ts, code, trace_id, agent, approver, digest, policy_version, kid, rule) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)';

const CONSUME = 'INSERT INTO consumed (iss, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT (iss, jti) DO NOTHING RETURNING jti';
const RECEIPT = 'INSERT INTO receipts (jti, site, cdg, receipt, issued_at) VALUES ($1, $2, $3, $4, $5)';

/**
 * A second use of a jti within one group is answered as replayed without being sent: whether the
 * first use consumes it or finds it consumed, the second cannot. It is still answered only once the
 * group's statement committed. If the group's statement fails (one bad row aborts a statement), each
 * decision is retried alone, so only the bad one fails.
 */
export class PostgresGroupCommit extends GroupCommit {
  private readonly group: <R>(values: unknown[]) => Promise<R[]>;
  private readonly oneAllow: <R>(values: unknown[]) => Promise<R[]>;
  private readonly oneRefusal: <R>(values: unknown[]) => Promise<R[]>;

  constructor(private readonly pool: pg.Pool) {
    super();
    this.group = pgStatement(GROUP, pool);
    this.oneAllow = pgStatement(ONE_ALLOW, pool);
    this.oneRefusal = pgStatement(ONE_REFUSAL, pool);
  }

  protected async flush(jobs: Job[]): Promise<JobResult[]> {
    const seen = new Set<string>();
    const sent = new Set<Job>();
    const several: Extract<Job, { kind: 'allow' }>[] = [];
    for (const job of jobs) {
      if (job.kind === 'allow') {
        // A quorum's tokens are consumed all or none: that takes a transaction of its own.
        if (job.entries.length > 1) {
          several.push(job);
          continue;
        }
        const key = JSON.stringify([job.entries[0]!.iss, job.entries[0]!.jti]);
        if (seen.has(key)) continue;
        seen.add(key);
      }
      sent.add(job);
    }
    const quorumResults = new Map<Job, JobResult>();
    for (const job of several) quorumResults.set(job, await this.allTogether(job));
    let inserted: Set<string>;
    try {
      inserted = sent.size > 0 ? await this.sendGroup([...sent]) : new Set();
    } catch {
      return Promise.all(jobs.map((job) => quorumResults.get(job) ?? (sent.has(job) ? this.alone(job) : Promise.resolve<JobResult>({ ok: true, value: false }))));
    }
    return jobs.map((job): JobResult => {
      const quorum = quorumResults.get(job);
      if (quorum) return quorum;
      if (job.kind === 'refusal') return inserted.has(job.row.id) ? { ok: true, value: true } : { ok: false, error: new Error('refusal record not written') };
      return { ok: true, value: sent.has(job) && inserted.has(job.row.id) };
    });
  }

  private async sendGroup(jobs: Job[]): Promise<Set<string>> {
    const columns: unknown[][] = Array.from({ length: 18 }, () => []);
    for (const job of jobs) {
      const entry = job.kind === 'allow' ? job.entries[0]! : undefined;
      const consume = entry ? [entry.iss, entry.jti, entry.expiresAt] : [null, null, null];
      const receipt = job.kind === 'allow' ? receiptValues(job.receipt) : receiptValues(undefined);
      [...consume, ...decisionValues(job.row), ...receipt, job.row.rule].forEach((value, i) => columns[i]!.push(value));
    }
    const rows = await this.group<{ id: string }>(columns);
    return new Set(rows.map((r) => r.id));
  }

  private async alone(job: Job): Promise<JobResult> {
    try {
      if (job.kind === 'refusal') {
        await this.oneRefusal([...decisionValues(job.row), job.row.rule]);
        return { ok: true, value: true };
      }
      const entry = job.entries[0]!;
      const rows = await this.oneAllow([entry.iss, entry.jti, entry.expiresAt, ...decisionValues(job.row), ...receiptValues(job.receipt), job.row.rule]);
      return { ok: true, value: rows.length === 1 };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /** Several jtis in one transaction: every one inserted here, with the decision and receipt, or none (false). */
  private async allTogether(job: Extract<Job, { kind: 'allow' }>): Promise<JobResult> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      return { ok: false, error };
    }
    try {
      await client.query('BEGIN');
      for (const entry of job.entries) {
        const fresh = await client.query(CONSUME, [entry.iss, entry.jti, entry.expiresAt]);
        if (fresh.rowCount !== 1) {
          await client.query('ROLLBACK');
          return { ok: true, value: false };
        }
      }
      await client.query(ONE_REFUSAL, [...decisionValues(job.row), job.row.rule]);
      if (job.receipt) await client.query(RECEIPT, receiptValues(job.receipt));
      await client.query('COMMIT');
      return { ok: true, value: true };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      return { ok: false, error };
    } finally {
      client.release();
    }
  }
}

/** A decision row's values in the column order of the statements above. */
function decisionValues(r: DecisionRow): unknown[] {
  return [r.id, r.ts, r.code, r.trace_id, r.agent, r.approver, r.digest, r.policy_version, r.kid];
}

/** An allow's receipt row after them, in the same order; nulls when there is none (refusals, tests). */
function receiptValues(r: ReceiptRow | undefined): unknown[] {
  return r ? [r.jti, r.site, r.cdg, r.receipt, r.issued_at] : [null, null, null, null, null];
}
