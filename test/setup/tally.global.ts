// Vitest globalSetup: clears the tally before the run and prints the security/fault summary line after it,
// "attacks: N tried, faults: M injected, lost: L, unauthorized: U", also written to test-results/faults-summary.txt.
// Node only (tests). Records come from test/helpers/tally.ts.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TALLY_DIR } from '../helpers/tally';
import type { TallyRecord } from '../helpers/tally';

export function summarize(dir = TALLY_DIR): { line: string; totals: Required<Omit<TallyRecord, 'source'>>; sources: number } {
  const totals = { attacks: 0, faults: 0, lost: 0, unauthorized: 0 };
  const sources = new Set<string>();
  for (const file of existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : []) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line) as TallyRecord;
      sources.add(r.source);
      totals.attacks += r.attacks ?? 0;
      totals.faults += r.faults ?? 0;
      totals.lost += r.lost ?? 0;
      totals.unauthorized += r.unauthorized ?? 0;
    }
  }
  return { line: `attacks: ${totals.attacks} tried, faults: ${totals.faults} injected, lost: ${totals.lost}, unauthorized: ${totals.unauthorized}`, totals, sources: sources.size };
}

/** Under scripts/test-faults.mjs (COUNTERSIGN_TALLY_OUTER=1) the script clears and sums across its runs instead. */
export default function setup(): () => void {
  if (process.env.COUNTERSIGN_TALLY_OUTER === '1') return () => {};
  rmSync(TALLY_DIR, { recursive: true, force: true });
  return () => {
    const { line, totals, sources } = summarize();
    if (sources === 0) return;
    mkdirSync(join(TALLY_DIR, '..'), { recursive: true });
    writeFileSync(join(TALLY_DIR, '..', 'faults-summary.txt'), `${line}\n`);
    console.log(`\n${line}  (${sources} recorded checks)`);
    if (totals.lost > 0 || totals.unauthorized > 0) process.exitCode = 1;
  };
}
