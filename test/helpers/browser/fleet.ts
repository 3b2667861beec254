// A fleet's deployment in miniature: the kit from `npm run package` served over loopback as an admin
// self-hosts it, and Chromium started the way a managed machine starts it — no --load-extension, the
// extension installed by policy (ExtensionInstallForcelist) from the served update manifest. Node only
// (browser tests).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { CHROMIUM, CHROMIUM_FLAGS } from './browser';

export interface KitServer {
  /** `http://127.0.0.1:<port>/kit/`: the base URL the kit is packed for. */
  baseUrl: string;
  /** Every path the browsers asked for, with its query, in order. */
  requests: string[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.crx': 'application/x-chrome-extension', '.xml': 'text/xml', '.json': 'application/json', '.xpi': 'application/x-xpinstall' };

/** Serves `dir` under /kit/ on loopback; the directory may be filled after it starts (the URL goes into the kit). */
export async function serveKit(dir: string): Promise<KitServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const path = new URL(req.url ?? '/', 'http://kit').pathname;
    const name = normalize(path.replace(/^\/kit\//, ''));
    const file = join(dir, name);
    if (!path.startsWith('/kit/') || name.startsWith('..') || name.includes('/') || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/kit/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface FleetBrowser {
  context: BrowserContext;
  profile: string;
  /** The installed copy's folder in the profile, once Chromium has unpacked it (null before). */
  installedDir(id: string, version: string): string | null;
  close(): Promise<void>;
}

/**
 * Chromium as a managed machine runs it: the extension comes only from policy. The updater that fetches
 * the update manifest is "background networking", so that switch (ours and Playwright's) is left off;
 * every other flag is the suite's usual one.
 */
export async function launchFleetChromium(): Promise<FleetBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'cs-fleet-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreDefaultArgs: ['--disable-background-networking', '--disable-extensions', '--disable-component-extensions-with-background-pages'],
    args: CHROMIUM_FLAGS.filter((flag) => flag !== '--disable-background-networking'),
    viewport: { width: 1100, height: 800 },
  });
  return {
    context,
    profile,
    installedDir(id, version) {
      const dir = join(profile, 'Default', 'Extensions', id, `${version}_0`);
      return existsSync(join(dir, 'manifest.json')) ? dir : null;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
