// Approve click → released request on the wire (issue 8, metric 6): an assistant's forum post is
// held, its owner clicks Approve in the popup, and the tool's server sees the released request.
// The click's time is the popup's own click event (performance.timeOrigin + event.timeStamp); the
// arrival is the forum's HTTP server's 'request' event in this process (timeOrigin + now): one
// machine clock. Node only (bench).
import type { IncomingMessage } from 'node:http';
import { PopupPage } from '../test/helpers/browser/pages/extension-pages';
import type { ExtensionBrowser } from '../test/helpers/browser/browser';
import type { Stack } from '../test/helpers/browser/stack';
import { forumTab, median } from './browser-support';
import type { Metric } from './verifier';
import { round } from './verifier';

export async function approveToWire(browser: ExtensionBrowser, stack: Stack, repetitions = 7): Promise<Metric[]> {
  const forum = await forumTab(browser.context, stack.forumUrl, 'alice');
  await forum.goto(`${stack.forumUrl}/t/1`);
  const popup = await PopupPage.open(browser);
  let arrived: ((at: number) => void) | null = null;
  const onRequest = (req: IncomingMessage) => {
    if (req.method === 'POST' && req.headers['countersign-approval'] && arrived) arrived(performance.timeOrigin + performance.now());
  };
  const server = stack.demo.forum.server;
  server.on('request', onRequest);
  const samples: number[] = [];
  try {
    for (let r = 0; r < repetitions + 1; r++) {
      await forum.getByRole('button', { name: 'Ask the assistant' }).click();
      const item = popup.action('agent:forum-helper', 'forum.post');
      await item.waitFor({ timeout: 15_000 });
      const approve = item.getByRole('button', { name: 'Approve' });
      await approve.waitFor();
      await popup.page.evaluate(() => {
        const w = window as Window & { csClickAt?: number };
        delete w.csClickAt;
        addEventListener('click', (e) => (w.csClickAt = performance.timeOrigin + e.timeStamp), { capture: true, once: true });
      });
      const arrival = new Promise<number>((resolve) => (arrived = resolve));
      await approve.click();
      const at = await arrival;
      arrived = null;
      const clickAt = await popup.page.evaluate(() => (window as Window & { csClickAt?: number }).csClickAt);
      if (clickAt === undefined) throw new Error('the popup saw no click');
      await forum.locator('[data-assistant-status]').filter({ hasText: 'Posted' }).waitFor({ timeout: 15_000 });
      await item.waitFor({ state: 'detached', timeout: 15_000 });
      // The first round warms the device key, the verifier connection and the popup: not counted.
      if (r > 0) samples.push(at - clickAt);
      await forum.reload();
    }
  } finally {
    server.off('request', onRequest);
    await popup.page.close();
    await forum.close();
  }
  const m = median(samples);
  return [{ metric: `approve click → released request at the tool, median of ${samples.length}`, value: round(m, 1), unit: 'ms', goal: '≤ 150', pass: m <= 150 }];
}
