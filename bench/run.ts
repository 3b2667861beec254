// `npm run bench`: measures Countersign against its physical limits and prints every figure with its
// goal and PASS or MISS; writes bench/results.json. Ratios use baselines measured in this same run.
// Node only; runs the verifier as a child process, a throwaway PostgreSQL cluster and Chromium (the
// browser part writes Chromium's managed policy: run it under `flock /tmp/cs-chromium.lock`); the
// gateway part runs the gateway, a static tool and (when installed) MediaWiki as child processes.
// Every timed phase runs REPETITIONS (3) times (bench/repeat.ts): a figure prints the median with the
// runs' min–max after it and its spread, (max − min) / median; a spread over 15 % prints NOISY instead
// of PASS or MISS.
// `--only verifier|presence|bundles|browser|gateway|profile|replicas|growth` (repeatable) runs those parts and prints them without touching
// results.json; `--no-build` reuses .output/chrome-mv3.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgresCluster } from '../test/setup/postgres-cluster';
import { browserMetrics } from './browser';
import { bundleSizes } from './bundles';
import { gatewayMetrics } from './gateway';
import { readerGrowth } from './browser-reader-growth';
import { growthMetrics } from './growth';
import { presenceMetrics } from './presence';
import { replicaMetrics } from './replicas';
import { profileMetrics } from './profile';
import { NOISY_SPREAD, REPETITIONS, repeat, repeatedMetric } from './repeat';
import type { Metric } from './verifier';
import { logIngest, openVerifyBench, verifyMetrics } from './verifier';

const PARTS = ['verifier', 'presence', 'bundles', 'browser', 'gateway', 'profile', 'replicas', 'growth'] as const;
type Part = (typeof PARTS)[number];

function options(): { parts: Set<Part>; partial: boolean; build: boolean } {
  const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, 'no-build': { type: 'boolean', default: false } } });
  const only = values.only ?? [];
  const unknown = only.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`--only takes ${PARTS.join(', ')}; not ${unknown.join(', ')}`);
  return { parts: new Set(only.length ? (only as Part[]) : PARTS), partial: only.length > 0, build: !values['no-build'] };
}

/**
 * SQLite and PostgreSQL verifiers side by side, one process each, and REPETITIONS rounds of: SQLite's
 * phases then PostgreSQL's, each with the raw baseline measured just before it. The PostgreSQL /
 * SQLite ratio is taken per round, from the two peaks of that round.
 */
async function verifierMetrics(): Promise<Metric[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-'));
  const stops: Array<() => Promise<void>> = [];
  const metrics: Metric[] = [];
  try {
    const cluster = await startPostgresCluster();
    stops.push(() => cluster.stop());
    const sqlite = await openVerifyBench(`sqlite:${join(dir, 'verifier.db')}`);
    stops.push(() => sqlite.stop());
    const pg = await openVerifyBench(cluster.url);
    stops.push(() => pg.stop());
    const rounds = await repeat(REPETITIONS, async (r) => {
      const round = { sqlite: await sqlite.run(), pg: await pg.run() };
      console.log(`verifier round ${r + 1}: SQLite ${Math.round(round.sqlite.peak)} req/s (L ${Math.round(round.sqlite.raw.limit)}), PostgreSQL ${Math.round(round.pg.peak)} req/s (L ${Math.round(round.pg.raw.limit)})`);
      return round;
    });
    metrics.push(
      ...verifyMetrics('SQLite', rounds.map((x) => x.sqlite)),
      ...verifyMetrics('PostgreSQL', rounds.map((x) => x.pg)),
      repeatedMetric(rounds.map((x) => x.pg.peak / x.sqlite.peak), { metric: `verify PostgreSQL / SQLite throughput, median of ${REPETITIONS} rounds`, unit: '×', goal: '≥ 0.8', digits: 2, pass: (m) => m >= 0.8 }),
    );
  } finally {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // With the database verifiers and the cluster stopped.
  metrics.push(await logIngest());
  return metrics;
}

async function main(): Promise<void> {
  const { parts, partial, build: wantBuild } = options();
  const metrics: Metric[] = [];
  const t0 = performance.now();
  if (wantBuild) {
    const build = spawnSync(process.execPath, ['node_modules/wxt/bin/wxt.mjs', 'build'], { stdio: 'ignore' });
    if (build.status !== 0) throw new Error('the extension build failed');
  }
  if (parts.has('verifier')) metrics.push(...(await verifierMetrics()));
  if (parts.has('presence')) metrics.push(...(await presenceMetrics((line) => console.log(line))));
  if (parts.has('bundles')) metrics.push(...bundleSizes());
  if (parts.has('browser')) {
    const t = performance.now();
    metrics.push(...(await browserMetrics((line) => console.log(`browser: ${line} (${Math.round((performance.now() - t) / 1000)} s)`))));
  }
  if (parts.has('gateway')) {
    const t = performance.now();
    metrics.push(...(await gatewayMetrics((line) => console.log(`gateway: ${line} (${Math.round((performance.now() - t) / 1000)} s)`))));
  }

  if (parts.has('profile')) metrics.push(...(await profileMetrics((line) => console.log(line))));
  if (parts.has('replicas')) metrics.push(...(await replicaMetrics((line) => console.log(`replicas: ${line}`))));
  if (parts.has('growth')) {
    // The server's curves (verify, log ingest, proposals), then the reader page's (Chromium).
    metrics.push(...(await growthMetrics((line) => console.log(`growth: ${line}`))));
    metrics.push(...(await readerGrowth((line) => console.log(`growth: ${line}`))));
  }

  const width = Math.max(...metrics.map((m) => m.metric.length));
  const shown = (m: Metric) => ('min' in m && 'max' in m ? `${m.value} (${String(m.min)}–${String(m.max)})` : String(m.value));
  const spreadShown = (m: Metric) => (m.spread === undefined ? '' : Number.isFinite(m.spread) ? `±${Math.round(m.spread * 100)} %` : '±∞');
  const valueWidth = Math.max(12, ...metrics.map((m) => shown(m).length));
  const spreadWidth = Math.max(6, ...metrics.map((m) => spreadShown(m).length));
  console.log(`\n${'metric'.padEnd(width)}  ${'value'.padStart(valueWidth)}  ${'spread'.padStart(spreadWidth)}  unit         goal        result`);
  for (const m of metrics) {
    // A noisy figure is neither a pass nor a miss: its runs disagree by more than NOISY_SPREAD.
    const result = m.noisy ? 'NOISY' : m.goal === 'report' || m.goal === 'baseline' ? '' : m.pass ? 'PASS' : 'MISS';
    console.log(`${m.metric.padEnd(width)}  ${shown(m).padStart(valueWidth)}  ${spreadShown(m).padStart(spreadWidth)}  ${m.unit.padEnd(11)}  ${m.goal.padEnd(10)}  ${result}`);
  }
  if (metrics.some((m) => m.spread !== undefined)) console.log(`\nspread = (max − min) / median of ${REPETITIONS} runs; over ${NOISY_SPREAD * 100} % it is NOISY instead of PASS or MISS.`);
  console.log(`\n(${Math.round((performance.now() - t0) / 1000)} s)`);
  if (partial) console.log('(--only: bench/results.json left as it was)');
  else writeFileSync('bench/results.json', `${JSON.stringify(metrics, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
