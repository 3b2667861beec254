// Launches Debian's Firefox ESR over WebDriver BiDi (puppeteer-core) with the built Firefox extension
// installed as a temporary add-on, on a throwaway profile whose moz-extension UUID is fixed so the
// tests know the extension pages' URLs. Never downloads a browser. Node only (Firefox browser tests).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import puppeteer from 'puppeteer-core';
import type { Browser, Page } from 'puppeteer-core';
import { GECKO_ID } from '@/lib/extension-identity';

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const FIREFOX_EXTENSION_DIR = resolve('.output/firefox-mv3');

/**
 * Firefox gives each profile a random moz-extension host per add-on; the profile's
 * `extensions.webextensions.uuids` pref, set before the install, fixes it instead.
 */
export const EXTENSION_UUID = '6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab';
export const EXTENSION_ORIGIN = `moz-extension://${EXTENSION_UUID}`;

export interface FirefoxWithExtension {
  browser: Browser;
  /** The add-on id Firefox reports for the installed extension (the manifest's gecko id). */
  addonId: string;
  /** A new tab for web pages; `asPerson`: its pages see navigator.webdriver false, as in a person's browser. */
  newPage(options?: { asPerson?: boolean }): Promise<Page>;
  /** Opens an extension page (options.html, popup.html) in a tab. */
  openExtensionPage(path: string): Promise<Page>;
  close(): Promise<void>;
}

const PREFS = {
  [`extensions.webextensions.uuids`]: JSON.stringify({ [GECKO_ID]: EXTENSION_UUID }),
  // The machine has no network beyond loopback: keep Firefox from trying.
  'app.update.disabledForTesting': true,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'extensions.getAddons.cache.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
} as const;

export interface FirefoxLaunchOptions {
  /**
   * `temporary` (default): the build installed over BiDi as a temporary add-on. `policy`: nothing
   * installed by the driver; the add-on comes from policies.json (ExtensionSettings force_installed),
   * as on a fleet machine. Unsigned, so the profile allows unsigned add-ons (ESR honours the pref), and
   * the rig's http-on-loopback update URL (Firefox disables an add-on whose update URL is not https).
   */
  install?: 'temporary' | 'policy';
}

const POLICY_INSTALL_PREFS = { 'xpinstall.signatures.required': false, 'extensions.checkUpdateSecurity': false } as const;

export async function launchFirefoxWithExtension(options: FirefoxLaunchOptions = {}): Promise<FirefoxWithExtension> {
  const install = options.install ?? 'temporary';
  if (!existsSync(FIREFOX)) throw new Error(`${FIREFOX} is missing: apt-get install -y firefox-esr`);
  if (install === 'temporary' && !existsSync(join(FIREFOX_EXTENSION_DIR, 'manifest.json'))) throw new Error(`${FIREFOX_EXTENSION_DIR} is missing: run \`npm run build:firefox\` first`);
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    // Without it, WebDriver BiDi refuses to navigate a tab to a moz-extension:// page.
    args: ['--remote-allow-system-access'],
    extraPrefsFirefox: install === 'policy' ? { ...PREFS, ...POLICY_INSTALL_PREFS } : PREFS,
    defaultViewport: { width: 1100, height: 800 },
  });
  try {
    const addonId = install === 'temporary' ? await browser.installExtension(FIREFOX_EXTENSION_DIR) : GECKO_ID;
    const newPage = async (options: { asPerson?: boolean } = {}) => {
      const page = await browser.newPage();
      // Firefox has no switch that hides navigator.webdriver (Chromium's AutomationControlled): a person's
      // browser reports false, so the page's navigator does too, before any of its scripts run.
      if (options.asPerson) await page.evaluateOnNewDocument(() => Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false, configurable: true }));
      return page;
    };
    return {
      browser,
      addonId,
      newPage,
      async openExtensionPage(path) {
        const page = await browser.newPage();
        // An extension page's load event never reaches the driver as a web page's does: wait for no
        // lifecycle event (the navigation itself is still awaited), then for the document to be complete.
        await page.goto(`${EXTENSION_ORIGIN}/${path}`, { waitUntil: [] });
        await page.waitForFunction(() => document.readyState === 'complete' && location.protocol === 'moz-extension:');
        return page;
      },
      async close() {
        await browser.close();
      },
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
