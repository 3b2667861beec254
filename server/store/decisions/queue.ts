// The decision writer's contract and its queue: writes asked for during one event-loop turn are
// handed to the database together on the next, each caller answered with its own result. Node only.
import type { ReceiptRow } from '../receipts';
import { decisionRow } from './records';
import type { DecisionFacts, DecisionRow } from './records';

export interface ConsumeRequest {
  iss: string;
  jti: string;
  /** Seconds: exp + skew. */
  expiresAt: number;
}

export interface DecisionWriter {
  /**
   * Inserts (iss, jti) — unique key, so concurrent uses of one token race on the index, never on a
   * read — and, atomically with it, the allow decision and the receipt issued for it (kept for
   * lookup). Resolves only once that is durable: true when this call consumed the jti, false when it
   * was already consumed (then neither the decision nor the receipt is written). Several entries (a
   * quorum's tokens) are consumed all together or not at all: one already consumed means false and
   * none of them is.
   */
  consumeAndAllow(entry: ConsumeRequest | readonly ConsumeRequest[], facts: Omit<DecisionFacts, 'code'>, now: number, receipt?: ReceiptRow): Promise<boolean>;
  /** Records a refusal; resolves once it is durable. */
  recordRefusal(facts: DecisionFacts, now: number): Promise<void>;
  /** Settles every write queued so far and releases the writer's resources (before the database closes). */
  close(): Promise<void>;
}

export type Job =
  | { kind: 'allow'; entries: readonly ConsumeRequest[]; row: DecisionRow; receipt: ReceiptRow | undefined; settle: Settle<boolean> }
  | { kind: 'refusal'; row: DecisionRow; settle: Settle<void> };

interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** What the database made of one job: for an allow, whether it consumed the jti. */
export type JobResult = { ok: true; value: boolean } | { ok: false; error: unknown };

/**
 * Queues jobs and flushes everything queued during one event-loop turn on the next (setImmediate),
 * so concurrent verifies share one commit. `flush` returns one result per job, in order, only once
 * the group is durable, or throws to fail the whole group; nobody is answered before that.
 */
export abstract class GroupCommit implements DecisionWriter {
  private queue: Job[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  protected abstract flush(jobs: Job[]): Promise<JobResult[]>;

  /** Called once, after the last flush settled. */
  protected release(): void {}

  consumeAndAllow(entry: ConsumeRequest | readonly ConsumeRequest[], facts: Omit<DecisionFacts, 'code'>, now: number, receipt?: ReceiptRow): Promise<boolean> {
    const entries: readonly ConsumeRequest[] = Array.isArray(entry) ? entry : [entry as ConsumeRequest];
    return new Promise((resolve, reject) => this.enqueue({ kind: 'allow', entries, row: decisionRow({ ...facts, code: 'allow' }, now), receipt, settle: { resolve, reject } }));
  }

  recordRefusal(facts: DecisionFacts, now: number): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'refusal', row: decisionRow(facts, now), settle: { resolve, reject } }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      if (this.queue.length > 0 && !this.scheduled) this.schedule();
      await Promise.all([...this.inFlight, new Promise((r) => setImmediate(r))]);
    }
    this.closed = true;
    this.release();
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
      const flight = this.run(jobs);
      this.inFlight.add(flight);
      void flight.finally(() => this.inFlight.delete(flight));
    });
  }

  private async run(jobs: Job[]): Promise<void> {
    let results: JobResult[];
    try {
      results = await this.flush(jobs);
    } catch (error) {
      for (const job of jobs) job.settle.reject(error);
      return;
    }
    jobs.forEach((job, i) => {
      const result = results[i]!;
      if (!result.ok) job.settle.reject(result.error);
      else if (job.kind === 'allow') job.settle.resolve(result.value);
      else job.settle.resolve();
    });
  }
}
