// Launches Debian's Chromium with the built extension (headless, persistent profile) and finds
// its service worker. Never downloads a browser. Node only (browser tests).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page, Worker } from 'playwright-core';
import { EXTENSION_ID } from '@/lib/extension-identity';
import { authenticatorFor, forgetAuthenticator } from './virtual-authenticator';
import type { Authenticator } from './virtual-authenticator';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const EXTENSION_DIR = resolve('.output/chrome-mv3');

export interface ExtensionBrowser {
  context: BrowserContext;
  extensionId: string;
  serviceWorker: Worker;
  /**
   * The person's authenticator (a virtual one, user verification on), on every page of the browser:
   * the options page registers a credential with it at enrollment and the popup asserts with it.
   */
  authenticator: Authenticator;
  /** Opens an extension page (popup.html, options.html) in a tab. */
  openExtensionPage(path: string): Promise<Page>;
  close(): Promise<void>;
}

/** Every browser the tests and benchmarks launch uses these, with or without the extension. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // The machine has no network beyond loopback: keep Chromium from trying.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
] as const;

/** Playing a person: hides navigator.webdriver, an authorship signal (DESIGN.md). */
export const AS_PERSON_FLAG = '--disable-blink-features=AutomationControlled';

export interface LaunchOptions {
  /** Play a person: hide navigator.webdriver, an authorship signal (DESIGN.md). */
  asPerson?: boolean;
  /**
   * Reuse this user-data directory (a browser restart: launch again with the same one). The caller
   * owns it: close() leaves it in place. Without it, a fresh profile is made and removed on close().
   */
  profile?: string;
  /** Load the extension from this folder instead of `.output/chrome-mv3` (e.g. a copy with a bumped version: an update). */
  extensionDir?: string;
}

export async function launchWithExtension(options: LaunchOptions = {}): Promise<ExtensionBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const extensionDir = options.extensionDir ?? EXTENSION_DIR;
  if (!existsSync(join(extensionDir, 'manifest.json'))) throw new Error(`${extensionDir} is missing: run \`npm run build\` first`);
  const profile = options.profile ?? mkdtempSync(join(tmpdir(), 'cs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      ...CHROMIUM_FLAGS,
      ...(options.asPerson ? [AS_PERSON_FLAG] : []),
    ],
    viewport: { width: 1100, height: 800 },
  });
  const serviceWorker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 15_000 }));
  const extensionId = new URL(serviceWorker.url()).host;
  if (extensionId !== EXTENSION_ID) throw new Error(`extension id ${extensionId} is not the fixed id ${EXTENSION_ID}`);
  const authenticator = authenticatorFor(profile);
  authenticator.watch(context);
  return {
    context,
    extensionId,
    serviceWorker,
    authenticator,
    async openExtensionPage(path) {
      const page = await context.newPage();
      await authenticator.attach(page);
      await page.goto(`chrome-extension://${extensionId}/${path}`);
      return page;
    },
    async close() {
      await context.close();
      if (!options.profile) {
        rmSync(profile, { recursive: true, force: true });
        forgetAuthenticator(profile);
      }
    },
  };
}
