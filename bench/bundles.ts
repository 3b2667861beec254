// Gzip size of each built entrypoint (Chrome build): what every page load and every popup pays. Node only.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Metric } from './verifier';

const OUT = '.output/chrome-mv3';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

export function bundleSizes(): Metric[] {
  const js = files(OUT).filter((f) => f.endsWith('.js'));
  const gz = (f: string) => gzipSync(readFileSync(f), { level: 9 }).length / 1024;
  const metrics: Metric[] = [];
  for (const script of ['content-scripts/hooks.js', 'content-scripts/hold.js', 'content-scripts/badges.js']) {
    const size = gz(join(OUT, script));
    metrics.push({ metric: `gzip ${script}`, value: Math.round(size * 10) / 10, unit: 'KB', goal: '≤ 30', pass: size <= 30 });
  }
  const background = gz(join(OUT, 'background.js'));
  metrics.push({ metric: 'gzip background.js', value: Math.round(background * 10) / 10, unit: 'KB', goal: 'report', pass: true });
  const pages = js.filter((f) => f.includes('/chunks/')).reduce((sum, f) => sum + gz(f), 0);
  metrics.push({ metric: 'gzip popup + options chunks (React, shared)', value: Math.round(pages * 10) / 10, unit: 'KB', goal: 'report', pass: true });
  return metrics;
}
