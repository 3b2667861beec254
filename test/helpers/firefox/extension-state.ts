// Reads the extension's state from one of its own pages in Firefox (there is no service worker to
// evaluate in: Firefox runs the background as an event page): registered content scripts, the toolbar
// badge, storage.managed, the manifest, and its IndexedDB log. Node only (Firefox browser tests).
import type { Page } from 'puppeteer-core';
import type { LogEvent } from '@/lib/protocol/index';
import type { FirefoxWithExtension } from './firefox';

/** The few WebExtension APIs read here, as Firefox's `browser` namespace gives them to an extension page. */
interface ExtensionApi {
  runtime: { getManifest(): { background?: { scripts?: string[]; service_worker?: string } }; getURL(path: string): string };
  scripting: {
    getRegisteredContentScripts(): Promise<Array<{ id: string; matches?: string[] }>>;
    executeScript<T>(details: { target: { tabId: number }; func: () => T }): Promise<Array<{ result?: T }>>;
  };
  action: { getBadgeText(details: object): Promise<string> };
  tabs: { query(q: object): Promise<Array<{ id?: number; url?: string }>> };
  storage: { managed: { get(): Promise<Record<string, unknown>> } };
}

export class FirefoxExtensionState {
  private page: Page | null = null;

  constructor(private readonly firefox: FirefoxWithExtension) {}

  /** An extension-origin document that runs none of the extension's code: opening it changes nothing. */
  private async extensionPage(): Promise<Page> {
    this.page ??= await this.firefox.openExtensionPage('manifest.json');
    return this.page;
  }

  async registeredScripts(): Promise<Array<{ id: string; matches: string[] }>> {
    return (await this.extensionPage()).evaluate(async () => {
      const api = (globalThis as unknown as { browser: ExtensionApi }).browser;
      return (await api.scripting.getRegisteredContentScripts()).map((s) => ({ id: s.id, matches: s.matches ?? [] }));
    });
  }

  async badgeText(): Promise<string> {
    return (await this.extensionPage()).evaluate(() => (globalThis as unknown as { browser: ExtensionApi }).browser.action.getBadgeText({}));
  }

  async managedPolicy(): Promise<Record<string, unknown>> {
    return (await this.extensionPage()).evaluate(() => (globalThis as unknown as { browser: ExtensionApi }).browser.storage.managed.get());
  }

  /** How the background runs (an event page's scripts, or a service worker) and the extension's own origin. */
  async runtime(): Promise<{ background: { scripts?: string[]; service_worker?: string }; origin: string }> {
    return (await this.extensionPage()).evaluate(() => {
      const api = (globalThis as unknown as { browser: ExtensionApi }).browser;
      return { background: api.runtime.getManifest().background ?? {}, origin: api.runtime.getURL('') };
    });
  }

  /**
   * The readers' badges on the tab showing `url`, by post id, with their state. They
   * live in closed shadow roots no page script reaches; Firefox lets an extension's own script through
   * (`Element.openOrClosedShadowRoot`), so a script injected from here reads them.
   */
  async badgesOn(url: string): Promise<Record<string, string>> {
    return (await this.extensionPage()).evaluate(async (wanted) => {
      const api = (globalThis as unknown as { browser: ExtensionApi }).browser;
      // Not tabs.query({ url }): that takes a match pattern, and Firefox's have no ports.
      const tab = (await api.tabs.query({})).find((t) => t.url === wanted);
      if (tab?.id === undefined) throw new Error(`no tab shows ${wanted}`);
      const [frame] = await api.scripting.executeScript({
        target: { tabId: tab.id },
        func: () => {
          const seen: Record<string, string> = {};
          for (const host of document.querySelectorAll('countersign-badge, [data-countersign-badge]')) {
            const root = (host as Element & { openOrClosedShadowRoot?: ShadowRoot | null }).openOrClosedShadowRoot;
            seen[host.closest('article')?.id ?? ''] = root?.querySelector('button')?.className ?? '';
          }
          return seen;
        },
      });
      return frame?.result ?? {};
    }, url);
  }

  /** The extension's log in chain order. */
  async log(): Promise<LogEvent[]> {
    return (await this.extensionPage()).evaluate(
      () =>
        new Promise<LogEvent[]>((resolve, reject) => {
          const open = indexedDB.open('countersign');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const db = open.result;
            const read = db.transaction('log').objectStore('log').getAll();
            read.onsuccess = () => {
              resolve((read.result as LogEvent[]).sort((a, b) => a.epoch - b.epoch || a.seq - b.seq));
              db.close();
            };
            read.onerror = () => reject(read.error);
          };
        }),
    );
  }

  /** Waits until the background has registered its holding scripts for the protected sites (policy arrives asynchronously). */
  async waitForProtection(): Promise<Array<{ id: string; matches: string[] }>> {
    const page = await this.extensionPage();
    await page.waitForFunction(
      async () => {
        const api = (globalThis as unknown as { browser: ExtensionApi }).browser;
        const ids = (await api.scripting.getRegisteredContentScripts()).map((s) => s.id);
        return ['countersign-hooks', 'countersign-hold'].every((id) => ids.includes(id));
      },
      { polling: 100, timeout: 15_000 },
    );
    return this.registeredScripts();
  }

  async close(): Promise<void> {
    await this.page?.close().catch(() => undefined);
    this.page = null;
  }
}
