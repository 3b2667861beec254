// Protected site, a person's fetch (issue 8, metric 5): the latency the MAIN-world hooks add to a
// page's fetch() of a small same-origin endpoint. Two comparisons in the same run: on the same
// protected page, the hooked window.fetch against the native fetch of a fresh about:blank frame
// (the hooks are not injected there), paired and alternating; and the hooked page against the same
// page in a browser without the extension, in alternating rounds. Node only (bench).
import type { Page } from 'playwright-core';
import { median } from './browser-support';
import type { Metric } from './verifier';
import { round } from './verifier';

/**
 * Times `n` fetches (milliseconds) with the page's own window.fetch (`main`: the hooks' on a protected
 * page with the extension) and, when `paired`, alternately with a fresh about:blank frame's native
 * fetch (`frame`).
 */
function timeFetches(page: Page, url: string, method: 'GET' | 'POST', n: number, paired: boolean): Promise<{ main: number[]; frame: number[] }> {
  return page.evaluate(
    async ({ url, method, n, paired }) => {
      const frame = document.createElement('iframe');
      document.body.append(frame);
      const nativeFetch = frame.contentWindow!.fetch.bind(frame.contentWindow);
      const mainFetch = window.fetch;
      if (paired && !Function.prototype.toString.call(frame.contentWindow!.fetch).includes('[native code]')) throw new Error('the frame fetch is not native');
      const init: RequestInit = method === 'POST' ? { method, headers: { 'content-type': 'application/json' }, body: '{"q":"bench"}' } : { method };
      // No named functions in here: tsx would wrap them in a helper the page does not have.
      const main: number[] = [];
      const frameTimes: number[] = [];
      for (let i = 0; i < n; i++) {
        const order: Array<[typeof fetch, number[]]> = !paired ? [[mainFetch, main]] : i % 2 ? [[mainFetch, main], [nativeFetch, frameTimes]] : [[nativeFetch, frameTimes], [mainFetch, main]];
        for (const [f, into] of order) {
          const t = performance.now();
          const res = await f(url, init);
          await res.arrayBuffer();
          into.push(performance.now() - t);
        }
      }
      frame.remove();
      return { main, frame: frameTimes };
    },
    { url, method, n, paired },
  );
}

export async function personFetch(extensionTab: Page, plainTab: Page, forumUrl: string): Promise<Metric[]> {
  // The hooks are in place on the protected page: window.fetch is theirs.
  await extensionTab.goto(`${forumUrl}/t/1`, { waitUntil: 'load' });
  await plainTab.goto(`${forumUrl}/t/1`, { waitUntil: 'load' });
  if (await extensionTab.evaluate(() => Function.prototype.toString.call(window.fetch).includes('[native code]'))) throw new Error('the protected page has no hooks: nothing to measure');
  if (!(await plainTab.evaluate(() => Function.prototype.toString.call(window.fetch).includes('[native code]')))) throw new Error('the browser without the extension has a hooked fetch');

  const metrics: Metric[] = [];
  // GET: a small JSON answer. POST: a same-origin POST that is no adapter action (a 404 answer),
  // the hooks' longest pass-through path (request copy, config, action match).
  const cases = [
    { method: 'GET' as const, url: `${forumUrl}/api/topics`, what: 'GET /api/topics' },
    { method: 'POST' as const, url: `${forumUrl}/api/bench-echo`, what: 'POST, not an action' },
  ];
  for (const c of cases) {
    await timeFetches(extensionTab, c.url, c.method, 20, true); // warm-up
    const { main: hooked, frame: native } = await timeFetches(extensionTab, c.url, c.method, 400, true);
    const added = median(hooked) - median(native);
    metrics.push({ metric: `protected page, a person's fetch (${c.what}): added median latency, hooks vs native, same page, ${hooked.length} pairs`, value: round(added, 3), unit: 'ms', goal: '≤ 1', pass: added <= 1 });
    metrics.push({ metric: `baseline: protected page, a person's fetch (${c.what}), native, median`, value: round(median(native), 3), unit: 'ms', goal: 'baseline', pass: true });
  }

  // Across browsers: the same GET with the extension and without it, alternating rounds.
  const withExt: number[] = [];
  const without: number[] = [];
  await timeFetches(plainTab, cases[0]!.url, 'GET', 20, false);
  for (let r = 0; r < 10; r++) {
    const a = async () => withExt.push(...(await timeFetches(extensionTab, cases[0]!.url, 'GET', 40, false)).main);
    const b = async () => without.push(...(await timeFetches(plainTab, cases[0]!.url, 'GET', 40, false)).main);
    if (r % 2) await a().then(b);
    else await b().then(a);
  }
  const across = median(withExt) - median(without);
  metrics.push({ metric: `protected page, a person's fetch (GET): added median latency, with vs without the extension, ${withExt.length} each`, value: round(across, 3), unit: 'ms', goal: '≤ 1', pass: across <= 1 });
  return metrics;
}
