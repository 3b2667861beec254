// Main-thread CPU time of one page load, from a DevTools trace: the thread time (`tdur`) of every
// top-level task on the page's renderer main thread until the load event, and the part of it the
// extension's content scripts ran (EvaluateScript / FunctionCall of chrome-extension:// scripts).
// Thread time, unlike wall time, does not grow when a busy machine preempts the renderer.
// Node only (bench).
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

export interface LoadCpu {
  /** Thread time of the renderer main thread's tasks until the load event ended, ms. */
  mainThreadMs: number;
  /** Of which the extension's content scripts, ms. */
  extensionMs: number;
}

/** Loads `url` in `page` (which should sit idle on about:blank) under a trace. */
export async function tracedLoad(page: Page, url: string): Promise<LoadCpu> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  try {
    await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8.execute', transferMode: 'ReportEvents' });
    await page.goto(url, { waitUntil: 'load' });
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
  const onThread = events.filter((e) => key(e) === thread && e.ph === 'X' && e.ts <= load.ts);
  const mainThreadMs = onThread.filter((e) => e.name === 'RunTask').reduce((sum, e) => sum + (e.tdur ?? 0), 0) / 1000;
  if (!(mainThreadMs > 0)) throw new Error('the trace has no top-level tasks with thread time on the page main thread');
  let extensionMs = 0;
  let coveredUntil = -1;
  for (const e of onThread.filter((x) => (x.name === 'EvaluateScript' || x.name === 'FunctionCall') && x.args?.data?.url?.startsWith('chrome-extension://')).sort((a, b) => a.ts - b.ts)) {
    if (e.ts < coveredUntil) continue; // nested in one already counted
    extensionMs += (e.tdur ?? 0) / 1000;
    coveredUntil = e.ts + (e.dur ?? 0);
  }
  return { mainThreadMs, extensionMs };
}
