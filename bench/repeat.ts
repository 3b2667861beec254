// Repeated bench phases: run a phase REPETITIONS times, summarise median / min–max / spread, and mark a figure whose spread is over NOISY_SPREAD as noisy. Node only (bench).
import type { Metric } from './verifier';

/** How many times every timed phase runs. */
export const REPETITIONS = 3;
/** A figure whose spread, (max − min) / median, exceeds this is NOISY rather than PASS or MISS. */
export const NOISY_SPREAD = 0.15;

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max − min) / |median|: 0 when all runs agree; Infinity when they differ around a median of 0. */
  spread: number;
}

/** A metric that is the median of repeated runs, with their min–max and spread. */
export interface RepeatedMetric extends Metric {
  min: number;
  max: number;
  spread: number;
  noisy: boolean;
}

/** Runs `fn` `n` times one after the other (never concurrently: each run is a timed phase), its results in order. */
export async function repeat<T>(n: number, fn: (run: number) => T | Promise<T>): Promise<T[]> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`repeat needs a whole number of runs ≥ 1, not ${n}`);
  const results: T[] = [];
  for (let run = 0; run < n; run++) results.push(await fn(run));
  return results;
}

export function median(values: readonly number[]): number {
  if (!values.length) throw new Error('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarise(values: readonly number[]): Summary {
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`cannot summarise ${values.join(', ')}: not all finite`);
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const range = max - min;
  const spread = range === 0 ? 0 : m === 0 ? Infinity : range / Math.abs(m);
  return { median: m, min, max, spread };
}

export interface MetricSpec {
  metric: string;
  unit: string;
  goal: string;
  /** Decimal places of the value, min and max. */
  digits: number;
  /** Whether the (unrounded) median meets the goal; omitted for a baseline or a figure only reported. */
  pass?: (median: number) => boolean;
}

const roundTo = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The metric for a summary: its median as the value, `noisy` when the spread is over NOISY_SPREAD. */
export function summaryMetric(summary: Summary, spec: MetricSpec): RepeatedMetric {
  return {
    metric: spec.metric,
    value: roundTo(summary.median, spec.digits),
    unit: spec.unit,
    goal: spec.goal,
    pass: spec.pass ? spec.pass(summary.median) : true,
    min: roundTo(summary.min, spec.digits),
    max: roundTo(summary.max, spec.digits),
    spread: Number.isFinite(summary.spread) ? roundTo(summary.spread, 4) : summary.spread,
    noisy: summary.spread > NOISY_SPREAD,
  };
}

/** summarise then summaryMetric. */
export function repeatedMetric(values: readonly number[], spec: MetricSpec): RepeatedMetric {
  return summaryMetric(summarise(values), spec);
}
