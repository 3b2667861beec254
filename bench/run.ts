// `npm run bench`: measures Countersign against its physical limits and prints every figure with its
// goal and PASS or MISS; writes bench/results.json. Ratios use baselines measured in this same run.
// Node only; runs the verifier as a child process and a throwaway PostgreSQL cluster.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgresCluster } from '../test/setup/postgres-cluster';
import { bundleSizes } from './bundles';
import type { Metric } from './verifier';
import { logIngest, rawVerifyRate, round, verifyThroughput } from './verifier';

async function main(): Promise<void> {
  const metrics: Metric[] = [];
  const t0 = performance.now();
  const build = spawnSync(process.execPath, ['node_modules/wxt/bin/wxt.mjs', 'build'], { stdio: 'ignore' });
  if (build.status !== 0) throw new Error('the extension build failed');

  const raw = rawVerifyRate();
  metrics.push({ metric: 'baseline: raw ES256 verify, node:crypto, 1 core', value: round(raw), unit: 'verifies/s', goal: 'baseline', pass: true });

  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-'));
  const sqlite = await verifyThroughput('SQLite', `sqlite:${join(dir, 'verifier.db')}`, raw);
  metrics.push(...sqlite.metrics);

  const cluster = await startPostgresCluster();
  try {
    const pg = await verifyThroughput('PostgreSQL', cluster.url, raw);
    metrics.push(...pg.metrics);
    const ratio = pg.peak / sqlite.peak;
    metrics.push({ metric: 'verify PostgreSQL / SQLite throughput', value: round(ratio, 2), unit: '×', goal: '≥ 0.8', pass: ratio >= 0.8 });
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  metrics.push(await logIngest());
  metrics.push(...bundleSizes());

  const width = Math.max(...metrics.map((m) => m.metric.length));
  console.log(`\n${'metric'.padEnd(width)}  ${'value'.padStart(12)}  unit         goal        result`);
  for (const m of metrics) {
    const result = m.goal === 'report' || m.goal === 'baseline' ? '' : m.pass ? 'PASS' : 'MISS';
    console.log(`${m.metric.padEnd(width)}  ${String(m.value).padStart(12)}  ${m.unit.padEnd(11)}  ${m.goal.padEnd(10)}  ${result}`);
  }
  console.log(`\n(${Math.round((performance.now() - t0) / 1000)} s)`);
  writeFileSync('bench/results.json', `${JSON.stringify(metrics, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
