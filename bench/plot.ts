// Dependency-free SVG line charts for bench curves (cost against data size, load, …): axes with ticks and labels, a legend, one polyline with point markers per series. Node only (bench); curveSvg itself is pure.
import { writeFileSync } from 'node:fs';

export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** A logarithmic x axis (every x must be > 0), ticks at powers of ten. */
  logX?: boolean;
}

const HEIGHT = 420;
const PLOT_WIDTH = 450;
/** Rough advance of one character of the 12 px legend text and of the 15 px bold title. */
const LEGEND_CHAR = 7;
const TITLE_CHAR = 9;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Tick labels of one axis with one unit suffix, chosen by its smallest non-zero tick: 200000…1000000 → 200k…1000k, 2000…10000 → 2k…10k, 0.25 → 0.25. */
function tickLabels(ticks: readonly number[]): string[] {
  const nonZero = ticks.filter((t) => t !== 0).map(Math.abs);
  const least = nonZero.length ? Math.min(...nonZero) : 0;
  const [unit, suffix] = least >= 1e9 ? [1e9, 'G'] : least >= 1e6 ? [1e6, 'M'] : least >= 1e3 ? [1e3, 'k'] : [1, ''];
  return ticks.map((t) => (t === 0 ? '0' : `${Number((t / unit).toPrecision(4))}${suffix}`));
}

/** "Nice" linear ticks (steps of 1, 2 or 5 × 10ⁿ) covering [lo, hi]; the domain grows to the outer ticks. */
function linearTicks(lo: number, hi: number, target = 6): { ticks: number[]; lo: number; hi: number } {
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(lo / step + 1e-9) * step;
  const last = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; first + i * step <= last + step * 1e-9; i++) ticks.push(Number((first + i * step).toPrecision(12)));
  return { ticks, lo: first, hi: last };
}

/** Ticks at the powers of ten covering [lo, hi] (both > 0). */
function logTicks(lo: number, hi: number): { ticks: number[]; lo: number; hi: number } {
  let a = Math.floor(Math.log10(lo) + 1e-9);
  let b = Math.ceil(Math.log10(hi) - 1e-9);
  if (a === b) b = a + 1;
  if (b - a > 12) a = b - 12;
  const ticks: number[] = [];
  for (let e = a; e <= b; e++) ticks.push(10 ** e);
  return { ticks, lo: 10 ** a, hi: 10 ** b };
}

function validate(chart: Chart): void {
  if (!chart.series.length) throw new Error(`chart "${chart.title}": no series to plot`);
  for (const s of chart.series) {
    if (!s.points.length) throw new Error(`chart "${chart.title}": series "${s.name}" has no points`);
    for (const p of s.points) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new Error(`chart "${chart.title}": series "${s.name}" has a non-finite point (${p.x}, ${p.y})`);
      if (chart.logX && p.x <= 0) throw new Error(`chart "${chart.title}": series "${s.name}" has x = ${p.x}, not > 0, on a logarithmic x axis`);
    }
  }
}

const fmt = (n: number) => String(Math.round(n * 100) / 100);

/** The chart as a standalone SVG document. Throws on no series, a series without points, a non-finite point, or x ≤ 0 on a log axis. */
export function curveSvg(chart: Chart): string {
  validate(chart);
  const points = chart.series.flatMap((s) => s.points);
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const xAxis = chart.logX ? logTicks(Math.min(...xs), Math.max(...xs)) : linearTicks(Math.min(...xs), Math.max(...xs));
  // The y axis starts at 0 unless a value is negative: costs read against zero.
  const yAxis = linearTicks(Math.min(0, ...ys), Math.max(...ys));
  // The plot box keeps its size; the legend's column and the whole width grow to fit the names and the title.
  const legendWidth = Math.min(420, Math.max(120, 60 + LEGEND_CHAR * Math.max(...chart.series.map((s) => s.name.length))));
  const BOX = { left: 80, top: 48, right: 80 + PLOT_WIDTH, bottom: HEIGHT - 60 };
  const WIDTH = Math.ceil(Math.max(BOX.right + legendWidth, 40 + TITLE_CHAR * chart.title.length));
  const w = BOX.right - BOX.left;
  const h = BOX.bottom - BOX.top;
  const px = chart.logX
    ? (x: number) => BOX.left + ((Math.log10(x) - Math.log10(xAxis.lo)) / (Math.log10(xAxis.hi) - Math.log10(xAxis.lo))) * w
    : (x: number) => BOX.left + ((x - xAxis.lo) / (xAxis.hi - xAxis.lo)) * w;
  const py = (y: number) => BOX.bottom - ((y - yAxis.lo) / (yAxis.hi - yAxis.lo)) * h;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  out.push(`<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`);
  out.push(`<rect class="plot" x="${BOX.left}" y="${BOX.top}" width="${w}" height="${h}" fill="none" stroke="#333333"/>`);
  const xTickLabels = tickLabels(xAxis.ticks);
  const yTickLabels = tickLabels(yAxis.ticks);
  xAxis.ticks.forEach((t, i) => {
    const x = fmt(px(t));
    out.push(`<line class="grid" x1="${x}" y1="${BOX.top}" x2="${x}" y2="${BOX.bottom}" stroke="#e5e5e5"/>`);
    out.push(`<line class="tick" x1="${x}" y1="${BOX.bottom}" x2="${x}" y2="${BOX.bottom + 5}" stroke="#333333"/>`);
    out.push(`<text class="x-tick" x="${x}" y="${BOX.bottom + 18}" text-anchor="middle">${escapeXml(xTickLabels[i]!)}</text>`);
  });
  yAxis.ticks.forEach((t, i) => {
    const y = fmt(py(t));
    out.push(`<line class="grid" x1="${BOX.left}" y1="${y}" x2="${BOX.right}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<line class="tick" x1="${BOX.left - 5}" y1="${y}" x2="${BOX.left}" y2="${y}" stroke="#333333"/>`);
    out.push(`<text class="y-tick" x="${BOX.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(yTickLabels[i]!)}</text>`);
  });
  out.push(`<text class="x-label" x="${fmt(BOX.left + w / 2)}" y="${HEIGHT - 18}" text-anchor="middle">${escapeXml(chart.xLabel + (chart.logX ? ' (log scale)' : ''))}</text>`);
  out.push(`<text class="y-label" x="20" y="${fmt(BOX.top + h / 2)}" text-anchor="middle" transform="rotate(-90 20 ${fmt(BOX.top + h / 2)})">${escapeXml(chart.yLabel)}</text>`);
  chart.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    out.push(`<g class="series">`);
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${sorted.map((p) => `${fmt(px(p.x))},${fmt(py(p.y))}`).join(' ')}"/>`);
    for (const p of sorted) out.push(`<circle cx="${fmt(px(p.x))}" cy="${fmt(py(p.y))}" r="3.5" fill="${colour}"><title>${escapeXml(`${s.name}: (${p.x}, ${p.y})`)}</title></circle>`);
    out.push(`</g>`);
    const ly = BOX.top + 10 + i * 20;
    out.push(`<line class="legend" x1="${BOX.right + 16}" y1="${ly}" x2="${BOX.right + 40}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`);
    out.push(`<text class="legend" x="${BOX.right + 46}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}

/** curveSvg written to `path`. */
export function writeCurveSvg(path: string, chart: Chart): void {
  writeFileSync(path, curveSvg(chart));
}
