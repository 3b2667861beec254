// Unprotected page (issue 8, metric 4): shows by observation that the extension injects nothing on
// an origin its policy does not protect. Through the DevTools protocol it counts the extension's
// isolated worlds (Runtime.executionContextCreated) and checks whether the page's fetch is still
// native (the MAIN-world hooks replace it) and whether any `countersign` performance entry exists.
// The same probe on a protected page must see the extension, or the probe itself is broken.
// Node only (bench).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext } from 'playwright-core';
import type { Metric } from './verifier';

interface Probe {
  isolatedWorlds: number;
  nativeFetch: boolean;
  countersignEntries: number;
}

async function probe(context: BrowserContext, extensionId: string, url: string): Promise<Probe> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  let isolatedWorlds = 0;
  cdp.on('Runtime.executionContextCreated', (event: { context: { origin: string; auxData?: { type?: string } } }) => {
    if (event.context.auxData?.type === 'isolated' && event.context.origin.includes(extensionId)) isolatedWorlds++;
  });
  await cdp.send('Runtime.enable');
  await page.goto(url, { waitUntil: 'load' });
  // document_idle scripts run by the time the page is idle: give them that, then look.
  await page.waitForFunction(() => document.readyState === 'complete');
  await page.evaluate(() => new Promise((r) => requestIdleCallback(() => r(null), { timeout: 2000 })));
  const seen = await page.evaluate(() => ({
    nativeFetch: Function.prototype.toString.call(window.fetch).includes('[native code]'),
    countersignEntries: performance.getEntries().filter((e) => e.name.startsWith('countersign')).length,
  }));
  await cdp.detach();
  await page.close();
  return { isolatedWorlds, ...seen };
}

/** A page on 127.0.0.2: loopback, but not a site the demo policy protects (the demo tools' two origins). */
async function unprotectedServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Elsewhere</title><article class="post"><span class="author">assistant</span><div class="post-body">Not protected.</div></article>');
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.2', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.2:${port}/`, close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections(); // Chromium keeps its connection alive: close would wait for it
      }),
  };
}

export async function unprotectedPage(context: BrowserContext, extensionId: string, protectedUrl: string): Promise<Metric[]> {
  const control = await probe(context, extensionId, protectedUrl);
  if (control.isolatedWorlds === 0 || control.nativeFetch) {
    throw new Error(`the injection probe does not see the extension on a protected page (${JSON.stringify(control)}): it cannot show absence`);
  }
  const server = await unprotectedServer();
  try {
    const seen = await probe(context, extensionId, server.url);
    const injected = seen.isolatedWorlds > 0 || !seen.nativeFetch || seen.countersignEntries > 0;
    return [
      {
        metric: `unprotected page: content-script cost (extension worlds ${seen.isolatedWorlds}, fetch ${seen.nativeFetch ? 'native' : 'hooked'}; protected page: ${control.isolatedWorlds} worlds)`,
        // Not injected costs nothing; injected is a MISS whatever it costs (value: the worlds seen).
        value: injected ? seen.isolatedWorlds : 0,
        unit: injected ? 'injected!' : 'ms (not injected)',
        goal: '≤ 1',
        pass: !injected,
      },
    ];
  } finally {
    await server.close();
  }
}
