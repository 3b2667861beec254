// `npm run test:faults`: the security and fault suites at full strength (100,000 fuzz cases per endpoint,
// 20 verifier crashes), then the browser fault and hostile-page cases, then one summary line:
// "attacks: N tried, faults: M injected, lost: L, unauthorized: U". Exits non-zero if a suite failed or
// anything was lost or let through. Node only.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TALLY = join('test-results', 'tally');
rmSync(TALLY, { recursive: true, force: true });
const env = {
  ...process.env,
  COUNTERSIGN_TALLY_OUTER: '1',
  FUZZ_RUNS: process.env.FUZZ_RUNS ?? '100000',
  FAULT_ITERATIONS: process.env.FAULT_ITERATIONS ?? '20',
};
const vitest = join('node_modules', 'vitest', 'vitest.mjs');
let failed = false;
for (const config of ['vitest.faults.config.ts', 'vitest.faults-browser.config.ts']) {
  const run = spawnSync(process.execPath, [vitest, 'run', '--config', config, ...process.argv.slice(2)], { stdio: 'inherit', env });
  if (run.status !== 0) failed = true;
}

const totals = { attacks: 0, faults: 0, lost: 0, unauthorized: 0 };
for (const file of existsSync(TALLY) ? readdirSync(TALLY).filter((f) => f.endsWith('.jsonl')) : []) {
  for (const line of readFileSync(join(TALLY, file), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line);
    for (const k of Object.keys(totals)) totals[k] += r[k] ?? 0;
  }
}
const summary = `attacks: ${totals.attacks} tried, faults: ${totals.faults} injected, lost: ${totals.lost}, unauthorized: ${totals.unauthorized}`;
mkdirSync('test-results', { recursive: true });
writeFileSync(join('test-results', 'faults-summary.txt'), `${summary}\n`);
console.log(`\n${summary}`);
if (failed || totals.lost > 0 || totals.unauthorized > 0 || totals.attacks === 0) process.exit(1);
