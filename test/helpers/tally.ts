// Counts what the security and fault suites did — attacks tried, faults injected, and what was lost or let
// through — so each run closes with one summary line. Node only (tests). Tests record what they observed;
// test/setup/tally.global.ts sums the records and prints the line after the run.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where records go: one JSON line per call, appended (atomic for short lines), summed by the global setup. */
export const TALLY_DIR = join(process.cwd(), 'test-results', 'tally');

export interface TallyRecord {
  /** The test or case that recorded it, e.g. "J-01 alg none via POST /v1/verify". */
  source: string;
  attacks?: number;
  faults?: number;
  /** Acknowledged or held things found missing afterwards. */
  lost?: number;
  /** Requests allowed, released or signed that no owner approved. */
  unauthorized?: number;
}

export function record(entry: TallyRecord): void {
  mkdirSync(TALLY_DIR, { recursive: true });
  appendFileSync(join(TALLY_DIR, `${process.pid}.jsonl`), `${JSON.stringify(entry)}\n`);
}

/** `n` hostile inputs sent; `unauthorized` of them were accepted when they must not have been. */
export function recordAttacks(source: string, n: number, unauthorized = 0): void {
  record({ source, attacks: n, unauthorized });
}

/** `n` faults injected (kills, outages, restarts); `lost` items found missing afterwards. */
export function recordFaults(source: string, n: number, lost = 0, unauthorized = 0): void {
  record({ source, faults: n, lost, unauthorized });
}
