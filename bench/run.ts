// `npm run bench`: measures Countersign against its physical limits and prints every figure with its
// goal and PASS or MISS; writes bench/results.json. Ratios use baselines measured in this same run.
// Node only; runs the verifier as a child process, a throwaway PostgreSQL cluster and Chromium (the
// browser part writes Chromium's managed policy: run it under `flock /tmp/cs-chromium.lock`); the
// gateway part runs the gateway, a static tool and (when installed) MediaWiki as child processes.
// A figure that is a median of runs prints its min–max after it.
// `--only verifier|presence|bundles|browser|gateway` (repeatable) runs those parts and prints them without touching
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
import { presenceMetrics } from './presence';
import type { Metric } from './verifier';
import { logIngest, rawLimit, round, verifyThroughput } from './verifier';

const PARTS = ['verifier', 'presence', 'bundles', 'browser', 'gateway'] as const;
type Part = (typeof PARTS)[number];

function options(): { parts: Set<Part>; partial: boolean; build: boolean } {
  const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, 'no-build': { type: 'boolean', default: false } } });
  const only = values.only ?? [];
  const unknown = only.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`--only takes ${PARTS.join(', ')}; not ${unknown.join(', ')}`);
  return { parts: new Set(only.length ? (only as Part[]) : PARTS), partial: only.length > 0, build: !values['no-build'] };
}

async function verifierMetrics(): Promise<Metric[]> {
  const metrics: Metric[] = [];
  const raw = rawLimit();
  metrics.push({ metric: 'baseline: raw ES256 verify, node:crypto, 1 core', value: round(raw.verify), unit: 'verifies/s', goal: 'baseline', pass: true });
  metrics.push({ metric: 'baseline: raw ES256 sign, node:crypto, 1 core', value: round(raw.sign), unit: 'signs/s', goal: 'baseline', pass: true });
  metrics.push({ metric: 'baseline: L = 1/(t_verify + t_sign), 1 core', value: round(raw.limit), unit: 'req/s', goal: 'baseline', pass: true });

  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-'));
  const sqlite = await verifyThroughput('SQLite', `sqlite:${join(dir, 'verifier.db')}`, raw.limit);
  metrics.push(...sqlite.metrics);

  const cluster = await startPostgresCluster();
  try {
    const pg = await verifyThroughput('PostgreSQL', cluster.url, raw.limit);
    metrics.push(...pg.metrics);
    const ratio = pg.peak / sqlite.peak;
    metrics.push({ metric: 'verify PostgreSQL / SQLite throughput', value: round(ratio, 2), unit: '×', goal: '≥ 0.8', pass: ratio >= 0.8 });
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }

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

  const width = Math.max(...metrics.map((m) => m.metric.length));
  const shown = (m: Metric) => ('min' in m && 'max' in m ? `${m.value} (${String(m.min)}–${String(m.max)})` : String(m.value));
  const valueWidth = Math.max(12, ...metrics.map((m) => shown(m).length));
  console.log(`\n${'metric'.padEnd(width)}  ${'value'.padStart(valueWidth)}  unit         goal        result`);
  for (const m of metrics) {
    const result = m.goal === 'report' || m.goal === 'baseline' ? '' : m.pass ? 'PASS' : 'MISS';
    console.log(`${m.metric.padEnd(width)}  ${shown(m).padStart(valueWidth)}  ${m.unit.padEnd(11)}  ${m.goal.padEnd(10)}  ${result}`);
  }
  console.log(`\n(${Math.round((performance.now() - t0) / 1000)} s)`);
  if (partial) console.log('(--only: bench/results.json left as it was)');
  else writeFileSync('bench/results.json', `${JSON.stringify(metrics, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
