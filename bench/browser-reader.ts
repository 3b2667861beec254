// Reader page (issue 8, metric 3; issue 20): a 2,000-post forum topic loaded with and without the
// extension, alternating, in the same run. Reports the badge pass's main-thread time (the sum of the
// `countersign:badges` measures the content script records around each synchronous stretch), the
// page's load time (loadEventEnd) with / without, when every badge is drawn, and — from traces — how
// often Chromium laid the page out and recalculated its style with / without the extension, before
// the load event and during the badge pass, and how many of those a script forced. Node only (bench).
import type { Page } from 'playwright-core';
import { badgesOnPage } from '../test/helpers/browser/shadow';
import type { Layouts, LoadCpu } from './browser-trace';
import { tracedLoad } from './browser-trace';
import type { SeededTopic } from './browser-seed';
import { median } from './browser-support';
import type { Metric } from './verifier';
import { round } from './verifier';

interface ExtensionLoad {
  /** Main-thread time of the badge pass: the content script's synchronous stretches, summed. */
  badgeMs: number;
  /** How many stretches (measures) that was. */
  stretches: number;
  /** The pass's time by step (collect, read, send, draw). */
  steps: Record<string, number>;
  loadMs: number;
  /** Navigation start → the last badge drawn. */
  drawnMs: number;
}

/** The machine is shared and noisy: each load waits this long after the last one's work. */
const SETTLE_MS = 1000;
/** Traced loads per browser (tracing is heavier than a plain load). */
const CPU_PAIRS = 5;

/**
 * Starts every load from the same place in both browsers: the last page unloaded (its teardown and
 * garbage are not the next load's), and the browser idle after it.
 */
async function settle(page: Page): Promise<void> {
  await page.goto('about:blank');
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  await page.evaluate(() => new Promise((r) => requestIdleCallback(() => r(null), { timeout: 1000 })));
}

async function loadPlain(page: Page, url: string): Promise<number> {
  await settle(page);
  await page.goto(url, { waitUntil: 'load' });
  return page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventEnd);
}

/** The badge pass ends with a `countersign:badges:drawn` mark naming how many posts it handled. */
function badgesDrawn(page: Page, posts: number): Promise<unknown> {
  return page.waitForFunction((n) => performance.getEntriesByName('countersign:badges:drawn').some((m) => (m as PerformanceMark).detail?.posts === n), posts, { timeout: 60_000, polling: 50 });
}

/** Two frames rendered, then an idle moment: the last write's style and layout are done (and traced). */
function rendered(page: Page): Promise<unknown> {
  return page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => requestIdleCallback(() => r(null), { timeout: 1000 })))));
}

async function loadWithExtension(page: Page, url: string, posts: number): Promise<ExtensionLoad> {
  await settle(page);
  await page.goto(url, { waitUntil: 'load' });
  await badgesDrawn(page, posts);
  return page.evaluate(() => {
    const stretches = performance.getEntriesByName('countersign:badges', 'measure') as PerformanceMeasure[];
    const steps: Record<string, number> = {};
    for (const m of stretches) steps[String(m.detail)] = (steps[String(m.detail)] ?? 0) + m.duration;
    return {
      badgeMs: stretches.reduce((sum, m) => sum + m.duration, 0),
      stretches: stretches.length,
      steps,
      loadMs: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventEnd,
      drawnMs: performance.getEntriesByName('countersign:badges:drawn').at(-1)!.startTime,
    };
  });
}

/** Checks the badges a reader sees against what the seed put there: a benchmark of a broken page measures nothing. */
async function checkBadges(page: Page, topic: SeededTopic): Promise<void> {
  const seen = await badgesOnPage(page);
  const by = (state: string) => seen.filter((b) => b.state === state).length;
  const want = { verified: topic.counts.verified, 'unverified-ai': topic.counts.unverified, invalid: topic.counts.edited + topic.counts.forged };
  const got = { verified: by('verified'), 'unverified-ai': by('unverified-ai'), invalid: by('invalid') };
  if (seen.length !== topic.expectedBadges || JSON.stringify(got) !== JSON.stringify(want)) {
    const reasons = new Map<string, number>();
    for (const b of seen) if (b.state === 'invalid') reasons.set(b.details.replace(/^.*failed: /, ''), (reasons.get(b.details.replace(/^.*failed: /, '')) ?? 0) + 1);
    throw new Error(`reader page: expected badges ${JSON.stringify(want)}, saw ${JSON.stringify(got)} of ${seen.length}; invalid because: ${JSON.stringify([...reasons])}`);
  }
}

/** The trace's rendering figures over a run's pairs, for the table: medians, and the runs as `a b c`. */
function layoutMetrics(label: string, cpu: Array<{ plain: LoadCpu; ext: LoadCpu }>): Metric[] {
  const figure = (name: string, unit: string, pick: (l: LoadCpu) => number, which: 'plain' | 'ext') => {
    const values = cpu.map((c) => pick(c[which]));
    return { metric: `${label}: ${name} ${which === 'ext' ? 'with' : 'without'} the extension, median of ${cpu.length} traces (${values.join(' ')})`, value: median(values), unit, goal: 'report', pass: true };
  };
  const both = (l: LoadCpu, pick: (x: Layouts) => number) => pick(l.beforeLoad) + pick(l.afterLoad);
  return [
    figure('layouts until load', 'layouts', (l) => l.beforeLoad.layouts, 'plain'),
    figure('layouts until load', 'layouts', (l) => l.beforeLoad.layouts, 'ext'),
    figure('layouts from load to every badge drawn', 'layouts', (l) => l.afterLoad.layouts, 'plain'),
    figure('layouts from load to every badge drawn', 'layouts', (l) => l.afterLoad.layouts, 'ext'),
    figure('style recalculations, load and badge pass', 'recalcs', (l) => both(l, (x) => x.styles), 'plain'),
    figure('style recalculations, load and badge pass', 'recalcs', (l) => both(l, (x) => x.styles), 'ext'),
    figure('forced (synchronous) layouts and style recalculations, load and badge pass', 'forced', (l) => both(l, (x) => x.forced), 'plain'),
    figure('forced (synchronous) layouts and style recalculations, load and badge pass', 'forced', (l) => both(l, (x) => x.forced), 'ext'),
    figure("of those, forced inside the extension's scripts", 'forced', (l) => both(l, (x) => x.forcedByExtension), 'ext'),
  ];
}

export interface ReaderRun {
  /** Badge pass main-thread time per load with the extension, ms. */
  badgeMs: number[];
  /** loadEventEnd with / without, per pair. */
  ratios: number[];
  metrics: Metric[];
}

export async function readerPage(extensionTab: Page, plainTab: Page, forumUrl: string, topic: SeededTopic, log: (line: string) => void = () => undefined, repetitions = 15): Promise<Metric[]> {
  return (await readerRun(extensionTab, plainTab, forumUrl, topic, log, repetitions)).metrics;
}

/** The reader page's figures, and the per-load samples behind the badge pass and the load ratio. */
export async function readerRun(extensionTab: Page, plainTab: Page, forumUrl: string, topic: SeededTopic, log: (line: string) => void = () => undefined, repetitions = 15, cpuPairs = CPU_PAIRS): Promise<ReaderRun> {
  const url = `${forumUrl}/t/${topic.topicId}`;
  const posts = topic.counts.person + topic.expectedBadges;
  // Warm both browsers' caches (static files, connection) once, unmeasured; the extension's first
  // (cold: no verdict cached yet) pass is kept apart.
  await loadPlain(plainTab, url);
  const cold = await loadWithExtension(extensionTab, url, posts);
  await checkBadges(extensionTab, topic);

  const plain: number[] = [];
  const ext: ExtensionLoad[] = [];
  for (let r = 0; r < repetitions; r++) {
    if (r % 2) {
      ext.push(await loadWithExtension(extensionTab, url, posts));
      plain.push(await loadPlain(plainTab, url));
    } else {
      plain.push(await loadPlain(plainTab, url));
      ext.push(await loadWithExtension(extensionTab, url, posts));
    }
  }
  // Main-thread CPU until load, from traces: immune to the preemption that stretches wall time on a
  // busy machine. The extension's badge pass runs after load, so it is not in these figures.
  const cpu: Array<{ plain: LoadCpu; ext: LoadCpu }> = [];
  for (let r = 0; r < cpuPairs; r++) {
    const plainCpu = async () => {
      await settle(plainTab);
      return tracedLoad(plainTab, url, () => rendered(plainTab));
    };
    const extCpu = async () => {
      await settle(extensionTab);
      return tracedLoad(extensionTab, url, async () => {
        await badgesDrawn(extensionTab, posts);
        await rendered(extensionTab);
      });
    };
    if (r % 2) {
      const e = await extCpu();
      cpu.push({ ext: e, plain: await plainCpu() });
    } else {
      const p = await plainCpu();
      cpu.push({ plain: p, ext: await extCpu() });
    }
  }
  if (cpu.length) {
    log(`reader page: main-thread CPU until load without ${cpu.map((c) => Math.round(c.plain.mainThreadMs)).join(' ')}; with ${cpu.map((c) => `${Math.round(c.ext.mainThreadMs)} (ext ${round(c.ext.extensionMs, 1)})`).join(' ')}`);
    const counts = (l: LoadCpu) => `${l.beforeLoad.layouts}+${l.afterLoad.layouts} layouts, ${l.beforeLoad.styles}+${l.afterLoad.styles} styles, ${l.beforeLoad.forced}+${l.afterLoad.forced} forced (${l.beforeLoad.forcedByExtension}+${l.afterLoad.forcedByExtension} by the extension)`;
    log(`reader page: rendering until load + after, without: ${cpu.map((c) => counts(c.plain)).join('; ')}`);
    log(`reader page: rendering until load + after, with: ${cpu.map((c) => counts(c.ext)).join('; ')}`);
  }
  const cpuRatio = cpu.length ? median(cpu.map((c) => c.ext.mainThreadMs / c.plain.mainThreadMs)) : NaN;
  const extCpuMs = cpu.length ? median(cpu.map((c) => c.ext.extensionMs)) : NaN;
  log(`reader page: loadEventEnd without ${plain.map((x) => Math.round(x)).join(' ')}; with ${ext.map((e) => Math.round(e.loadMs)).join(' ')}; badge pass ${ext.map((e) => `${round(e.badgeMs, 1)} (${e.stretches})`).join(' ')}`);
  const badge = median(ext.map((e) => e.badgeMs));
  const loadExt = median(ext.map((e) => e.loadMs));
  const loadPlainMs = median(plain);
  const drawn = median(ext.map((e) => e.drawnMs));
  // Each repetition's two loads ran back to back: the median of their ratios follows the machine's
  // load as it drifts better than a ratio of two medians.
  const ratio = median(ext.map((e, r) => e.loadMs / plain[r]!));
  const label = `reader page, ${posts} posts (${topic.expectedBadges} badged)`;
  const metrics: Metric[] = [
    { metric: `${label}: badge pass main-thread time, median of ${repetitions}`, value: round(badge, 1), unit: 'ms', goal: '≤ 50', pass: badge <= 50 },
    ...['collect', 'read', 'send', 'draw'].map((step) => {
      const ms = median(ext.map((e) => e.steps[step] ?? 0));
      return { metric: `${label}: badge pass, of which ${step}, median`, value: round(ms, 1), unit: 'ms', goal: 'report', pass: true };
    }),
    { metric: `${label}: badge pass main-thread time, first (cold) load, one sample`, value: round(cold.badgeMs, 1), unit: 'ms', goal: 'report', pass: true },
    { metric: `baseline: ${label}: loadEventEnd without the extension`, value: round(loadPlainMs), unit: 'ms', goal: 'baseline', pass: true },
    { metric: `${label}: loadEventEnd with the extension`, value: round(loadExt), unit: 'ms', goal: 'report', pass: true },
    { metric: `${label}: ratio of the median loads`, value: round(loadExt / loadPlainMs, 2), unit: '×', goal: 'report', pass: true },
    { metric: `${label}: load time (loadEventEnd) with / without the extension, median of ${repetitions} paired ratios`, value: round(ratio, 2), unit: '×', goal: '≤ 1.05', pass: ratio <= 1.05 },
    ...(cpu.length
      ? [
          { metric: `${label}: main-thread CPU until load with / without the extension, median of ${cpuPairs} paired traces`, value: round(cpuRatio, 2), unit: '×', goal: '≤ 1.05', pass: cpuRatio <= 1.05 },
          { metric: `${label}: the extension's content scripts, main-thread CPU before load, median`, value: round(extCpuMs, 1), unit: 'ms', goal: 'report', pass: true },
        ]
      : []),
    { metric: `${label}: every badge drawn, from navigation start`, value: round(drawn), unit: 'ms', goal: 'report', pass: true },
    { metric: `${label}: every badge drawn, first (cold) load`, value: round(cold.drawnMs), unit: 'ms', goal: 'report', pass: true },
    ...(cpu.length ? layoutMetrics(label, cpu) : []),
  ];
  return { badgeMs: ext.map((e) => e.badgeMs), ratios: ext.map((e, r) => e.loadMs / plain[r]!), metrics };
}
