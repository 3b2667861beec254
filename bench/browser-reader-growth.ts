// The reader page's growth curve (issue 20): the same forum topic at 200, 2,000 and 20,000 posts,
// loaded with and without the extension in one run of its own (stack, managed policy, both
// browsers). At each size: the badge pass's main-thread time and the load-time ratio, a few
// repetitions each (median, min–max and spread); then whether the badge pass grows at most linearly
// (its time per post at 20,000 against 2,000), and the curve as bench/growth-reader.svg.
// Node only (bench; writes Chromium's managed policy: run it under the Chromium lock).
import { join } from 'node:path';
import { startStack } from '../test/helpers/browser/stack';
import { readerRun } from './browser-reader';
import type { ReaderRun } from './browser-reader';
import { seedReaderTopics } from './browser-seed';
import { withBrowsers } from './browser-support';
import { writeCurveSvg } from './plot';
import { REPETITIONS, median, repeatedMetric } from './repeat';
import type { Metric } from './verifier';

export const READER_SIZES = [200, 2000, 20_000] as const;
/** Badge pass time per post at the largest size over that at 2,000: at most this (1 is linear). */
export const MAX_PER_POST_GROWTH = 1.5;

const posts = (n: number) => n.toLocaleString('en');

export async function readerGrowth(log: (line: string) => void): Promise<Metric[]> {
  const stack = await startStack();
  const runs: ReaderRun[] = [];
  try {
    const started = performance.now();
    const topics = await seedReaderTopics(stack, [...READER_SIZES]);
    log(`reader growth: seeded ${READER_SIZES.map(posts).join(', ')} posts in ${Math.round(performance.now() - started)} ms`);
    await withBrowsers(stack, async ({ extTab, plainTab }) => {
      for (const [k, topic] of topics.entries()) {
        // Loads alternate with and without; no traces here (a 20,000-post trace is hundreds of MB).
        runs.push(await readerRun(extTab, plainTab, stack.forumUrl, topic, log, REPETITIONS, 0));
        log(`reader growth: ${posts(READER_SIZES[k]!)} posts: badge pass ${runs.at(-1)!.badgeMs.map((x) => x.toFixed(1)).join(' ')} ms; load ratio ${runs.at(-1)!.ratios.map((x) => x.toFixed(2)).join(' ')}`);
      }
    });
  } finally {
    await stack.close();
  }

  const metrics: Metric[] = [];
  READER_SIZES.forEach((n, k) => {
    const run = runs[k]!;
    metrics.push(
      repeatedMetric(run.badgeMs, { metric: `reader growth, ${posts(n)} posts: badge pass main-thread time, median of ${REPETITIONS}`, unit: 'ms', goal: n === 2000 ? '≤ 50' : 'report', digits: 1, ...(n === 2000 ? { pass: (m: number) => m <= 50 } : {}) }),
      repeatedMetric(run.badgeMs.map((ms) => (ms / n) * 1000), { metric: `reader growth, ${posts(n)} posts: badge pass per 1,000 posts, median of ${REPETITIONS}`, unit: 'ms', goal: 'report', digits: 2 }),
      repeatedMetric(run.ratios, { metric: `reader growth, ${posts(n)} posts: load time (loadEventEnd) with / without the extension, median of ${REPETITIONS} paired ratios`, unit: '×', goal: '≤ 1.05', digits: 2, pass: (m) => m <= 1.05 }),
    );
  });
  // Linear growth keeps the time per post: repetition r's per-post time at a size over repetition r's at the one before.
  const perPost = (k: number) => runs[k]!.badgeMs.map((ms) => ms / READER_SIZES[k]!);
  for (let k = 1; k < READER_SIZES.length; k++) {
    const [a, b] = [perPost(k - 1), perPost(k)];
    metrics.push(
      repeatedMetric(b.map((x, r) => x / a[r]!), {
        metric: `reader growth: badge pass time per post at ${posts(READER_SIZES[k]!)} / at ${posts(READER_SIZES[k - 1]!)} posts (1 = linear), median of ${REPETITIONS} paired runs`,
        unit: '×',
        goal: `≤ ${MAX_PER_POST_GROWTH}`,
        digits: 2,
        pass: (m) => m <= MAX_PER_POST_GROWTH,
      }),
    );
  }

  const at2000 = median(runs[READER_SIZES.indexOf(2000)]!.badgeMs);
  writeCurveSvg(join(import.meta.dirname, 'growth-reader.svg'), {
    title: 'Reader page: badge pass main-thread time against posts on the page',
    xLabel: 'posts on the page',
    yLabel: 'badge pass main-thread time (ms)',
    logX: true,
    series: [
      { name: `badge pass, median of ${REPETITIONS}`, points: READER_SIZES.map((n, k) => ({ x: n, y: median(runs[k]!.badgeMs) })) },
      { name: 'linear through the 2,000-post median', points: READER_SIZES.map((n) => ({ x: n, y: (at2000 * n) / 2000 })) },
    ],
  });
  return metrics;
}
