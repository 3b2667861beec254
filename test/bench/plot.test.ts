// Unit tests for bench/plot.ts: well-formed SVG, escaped text, log x positions, points inside the plot box, clear errors for nothing to plot.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Chart } from '../../bench/plot';
import { curveSvg, writeCurveSvg } from '../../bench/plot';

const chart = (over: Partial<Chart> = {}): Chart => ({
  title: 'verify p99',
  xLabel: 'records',
  yLabel: 'ms',
  series: [
    { name: 'p50', points: [{ x: 0, y: 1 }, { x: 100_000, y: 1.2 }, { x: 1_000_000, y: 1.4 }] },
    { name: 'p99', points: [{ x: 0, y: 3 }, { x: 100_000, y: 4 }, { x: 1_000_000, y: 5 }] },
  ],
  ...over,
});

/** Every element's tag, in order, from a minimal XML scan that fails on unbalanced tags. */
function checkBalanced(svg: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^<>]*?)(\/?)>/g)) {
    const [, close, tag, , selfClose] = m;
    if (close) {
      expect(stack.pop()).toBe(tag);
    } else {
      seen.push(tag!);
      if (!selfClose) stack.push(tag!);
    }
  }
  expect(stack).toEqual([]);
  return seen;
}

const circles = (svg: string) => [...svg.matchAll(/<circle cx="([\d.-]+)" cy="([\d.-]+)"/g)].map((m) => ({ cx: Number(m[1]), cy: Number(m[2]) }));

function plotBox(svg: string) {
  const m = /<rect class="plot" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  expect(m).not.toBeNull();
  const [x, y, w, h] = m!.slice(1).map(Number) as [number, number, number, number];
  return { left: x, top: y, right: x + w, bottom: y + h };
}

describe('curveSvg', () => {
  it('is a balanced SVG document with axes, ticks, labels, a legend and one polyline + markers per series', () => {
    const svg = curveSvg(chart());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const tags = checkBalanced(svg);
    expect(tags.filter((t) => t === 'polyline')).toHaveLength(2);
    expect(tags.filter((t) => t === 'circle')).toHaveLength(6);
    expect(svg).toContain('>verify p99</text>');
    expect(svg).toContain('class="x-label"');
    expect(svg).toContain('class="y-label"');
    expect(svg.match(/class="x-tick"/g)!.length).toBeGreaterThanOrEqual(3);
    expect(svg.match(/class="y-tick"/g)!.length).toBeGreaterThanOrEqual(3);
    expect(svg).toContain('>1000k</text>');
    expect(svg).toMatch(/<text class="legend"[^>]*>p50<\/text>/);
    expect(svg).toMatch(/<text class="legend"[^>]*>p99<\/text>/);
    // No stray ampersand or angle bracket outside markup: every & starts an entity.
    expect(svg).not.toMatch(/&(?!amp;|lt;|gt;|quot;|apos;)/);
  });

  it('escapes <, &, > and quotes in the title, labels and series names', () => {
    const svg = curveSvg(chart({ title: 'a < b & c', xLabel: '"x" > 0', yLabel: "y's", series: [{ name: '<script>&', points: [{ x: 1, y: 1 }] }] }));
    expect(svg).toContain('a &lt; b &amp; c');
    expect(svg).toContain('&quot;x&quot; &gt; 0');
    expect(svg).toContain('y&apos;s');
    expect(svg).toContain('&lt;script&gt;&amp;');
    expect(svg).not.toContain('<script>');
    checkBalanced(svg);
  });

  it('puts powers of ten equally far apart on a log x axis, ticks at powers of ten', () => {
    const svg = curveSvg(chart({ logX: true, series: [{ name: 's', points: [{ x: 10, y: 1 }, { x: 100, y: 2 }, { x: 1000, y: 3 }, { x: 10_000, y: 4 }] }] }));
    const xs = circles(svg).map((c) => c.cx);
    const gaps = xs.slice(1).map((x, i) => x - xs[i]!);
    for (const g of gaps) expect(g).toBeCloseTo(gaps[0]!, 1);
    expect(gaps[0]).toBeGreaterThan(0);
    // 30 sits log10(3) of a decade right of 10, not 20/90 of it as on a linear axis.
    const c = circles(curveSvg(chart({ logX: true, series: [{ name: 's', points: [{ x: 10, y: 1 }, { x: 30, y: 1 }, { x: 100, y: 1 }] }] })))[1];
    const box = plotBox(svg);
    expect((c!.cx - box.left) / (box.right - box.left)).toBeCloseTo(Math.log10(3), 2);
    expect(svg).toContain('(log scale)');
    expect(svg).toMatch(/class="x-tick"[^>]*>10000<\/text>/);
  });

  it('keeps every point inside the plot box, whatever the ranges', () => {
    for (const c of [
      chart(),
      chart({ logX: true, series: [{ name: 's', points: [{ x: 3, y: 0.001 }, { x: 7_000_000, y: 1e6 }] }] }),
      chart({ series: [{ name: 'flat', points: [{ x: 5, y: 2 }, { x: 5, y: 2 }] }] }),
      chart({ series: [{ name: 'neg', points: [{ x: -3, y: -7 }, { x: 4, y: 9.5 }] }, { name: 'zero', points: [{ x: 0, y: 0 }] }] }),
    ]) {
      const svg = curveSvg(c);
      const box = plotBox(svg);
      const pts = circles(svg);
      expect(pts.length).toBe(c.series.reduce((n, s) => n + s.points.length, 0));
      for (const p of pts) {
        expect(p.cx).toBeGreaterThanOrEqual(box.left - 0.01);
        expect(p.cx).toBeLessThanOrEqual(box.right + 0.01);
        expect(p.cy).toBeGreaterThanOrEqual(box.top - 0.01);
        expect(p.cy).toBeLessThanOrEqual(box.bottom + 0.01);
      }
    }
  });

  it('refuses nothing to plot, a series with no points, non-finite values and x ≤ 0 on a log axis, saying which', () => {
    expect(() => curveSvg(chart({ series: [] }))).toThrow(/verify p99.*no series/);
    expect(() => curveSvg(chart({ series: [{ name: 'ok', points: [{ x: 1, y: 1 }] }, { name: 'empty', points: [] }] }))).toThrow(/series "empty" has no points/);
    expect(() => curveSvg(chart({ series: [{ name: 'nan', points: [{ x: 1, y: Number.NaN }] }] }))).toThrow(/non-finite/);
    expect(() => curveSvg(chart({ logX: true }))).toThrow(/x = 0.*logarithmic/);
  });

  it('labels the ticks of one axis with one suffix, chosen by its smallest non-zero tick', () => {
    const svg = curveSvg(chart({ series: [{ name: 's', points: [{ x: 0, y: 6300 }, { x: 1_000_000, y: 9500 }] }] }));
    const yTicks = [...svg.matchAll(/class="y-tick"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(yTicks).toContain('8k');
    expect(yTicks).toContain('10k');
    expect(yTicks).toContain('0');
    expect(yTicks.every((t) => t === '0' || t!.endsWith('k'))).toBe(true);
    const xTicks = [...svg.matchAll(/class="x-tick"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(xTicks).toEqual(['0', '200k', '400k', '600k', '800k', '1000k']);
  });

  it('is pure: the same chart gives the same text and the input is left unchanged', () => {
    const c = chart({ series: [{ name: 's', points: [{ x: 3, y: 1 }, { x: 1, y: 2 }] }] });
    const copy = structuredClone(c);
    expect(curveSvg(c)).toBe(curveSvg(c));
    expect(c).toEqual(copy);
  });
});

describe('writeCurveSvg', () => {
  it('writes curveSvg to the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-plot-'));
    try {
      const path = join(dir, 'c.svg');
      writeCurveSvg(path, chart());
      expect(readFileSync(path, 'utf8')).toBe(curveSvg(chart()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
