// Main-thread CPU time of one page load, from a DevTools trace: the thread time (`tdur`) of every
// top-level task on the page's renderer main thread until the load event, and the part of it the
// extension's content scripts ran (EvaluateScript / FunctionCall of chrome-extension:// scripts).
// Thread time, unlike wall time, does not grow when a busy machine preempts the renderer. And how
// often Chromium laid the page out (Layout) and recalculated its style (UpdateLayoutTree), before the
// load event and after it (until `after` is done: the badge pass), and how many of those a script
// forced synchronously (nested in its EvaluateScript / FunctionCall). Node only (bench).
import type { Page } from 'playwright-core';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string; data?: { url?: string } };
}

/** Counts of the page main thread's rendering work in one span of the trace. */
export interface Layouts {
  /** Layout events (the page laid out). */
  layouts: number;
  /** UpdateLayoutTree events (style recalculated). */
  styles: number;
  /** Layouts and style recalculations a script forced (inside its EvaluateScript / FunctionCall). */
  forced: number;
  /** Of the forced, those inside the extension's scripts. */
  forcedByExtension: number;
}

export interface LoadCpu {
  /** Thread time of the renderer main thread's tasks until the load event ended, ms. */
  mainThreadMs: number;
  /** Of which the extension's content scripts, ms. */
  extensionMs: number;
  /** Rendering work until the load event, and after it until `after` was done. */
  beforeLoad: Layouts;
  afterLoad: Layouts;
}

const SCRIPT_EVENTS = new Set(['EvaluateScript', 'FunctionCall']);
const isExtension = (e: TraceEvent) => !!e.args?.data?.url?.startsWith('chrome-extension://');

function layoutsIn(events: TraceEvent[], scripts: TraceEvent[]): Layouts {
  const out: Layouts = { layouts: 0, styles: 0, forced: 0, forcedByExtension: 0 };
  for (const e of events) {
    if (e.name === 'Layout') out.layouts++;
    else if (e.name === 'UpdateLayoutTree') out.styles++;
    else continue;
    const inside = scripts.filter((s) => s.ts <= e.ts && e.ts + (e.dur ?? 0) <= s.ts + (s.dur ?? 0));
    if (!inside.length) continue;
    out.forced++;
    if (inside.some(isExtension)) out.forcedByExtension++;
  }
  return out;
}

/**
 * Loads `url` in `page` (which should sit idle on about:blank) under a trace; the trace goes on
 * until `after` is done (the badges drawn, say), for the rendering work after the load event.
 */
export async function tracedLoad(page: Page, url: string, after: () => Promise<unknown> = async () => undefined): Promise<LoadCpu> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  try {
    await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8.execute', transferMode: 'ReportEvents' });
    await page.goto(url, { waitUntil: 'load' });
    await after();
    await cdp.send('Tracing.end');
    await complete;
  } finally {
    await cdp.detach().catch(() => undefined);
  }
  // The page's main thread: the renderer main thread that parsed the document.
  const key = (e: TraceEvent) => `${e.pid}:${e.tid}`;
  const parsed = new Map<string, number>();
  for (const e of events) if (e.name === 'ParseHTML' && e.ph === 'X') parsed.set(key(e), (parsed.get(key(e)) ?? 0) + (e.dur ?? 0));
  const thread = [...parsed].sort((a, b) => b[1] - a[1])[0]?.[0];
  const load = events.find((e) => e.name === 'MarkLoad' && key(e) === thread);
  if (!thread || !load) throw new Error('the trace shows no parse or no load event for the page');
  const all = events.filter((e) => key(e) === thread && e.ph === 'X');
  const onThread = all.filter((e) => e.ts <= load.ts);
  const mainThreadMs = onThread.filter((e) => e.name === 'RunTask').reduce((sum, e) => sum + (e.tdur ?? 0), 0) / 1000;
  if (!(mainThreadMs > 0)) throw new Error('the trace has no top-level tasks with thread time on the page main thread');
  let extensionMs = 0;
  let coveredUntil = -1;
  for (const e of onThread.filter((x) => SCRIPT_EVENTS.has(x.name) && isExtension(x)).sort((a, b) => a.ts - b.ts)) {
    if (e.ts < coveredUntil) continue; // nested in one already counted
    extensionMs += (e.tdur ?? 0) / 1000;
    coveredUntil = e.ts + (e.dur ?? 0);
  }
  const scripts = all.filter((e) => SCRIPT_EVENTS.has(e.name));
  const rendering = all.filter((e) => e.name === 'Layout' || e.name === 'UpdateLayoutTree');
  return {
    mainThreadMs,
    extensionMs,
    beforeLoad: layoutsIn(rendering.filter((e) => e.ts <= load.ts), scripts),
    afterLoad: layoutsIn(rendering.filter((e) => e.ts > load.ts), scripts),
  };
}
