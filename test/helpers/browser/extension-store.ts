// Reads the extension's IndexedDB from one of its own pages rather than from the service worker, so a
// test can look at the queue while the worker is paused or stopped without waking it. Node only (browser tests).
import type { Page } from 'playwright-core';
import type { PendingActionRow } from '@/lib/extension/db';
import type { LogEvent } from '@/lib/protocol/index';
import type { ExtensionBrowser } from './browser';

type Store = 'actions' | 'log' | 'settings';

export class ExtensionStore {
  private page: Page | null = null;

  constructor(private readonly browser: ExtensionBrowser) {}

  /** Every row of one object store of the extension's database. */
  async all<T>(store: Store): Promise<T[]> {
    // An extension-origin document that runs none of the extension's code: opening it wakes nothing.
    this.page ??= await this.browser.openExtensionPage('manifest.json');
    return this.page.evaluate(
      (name) =>
        new Promise<T[]>((resolve, reject) => {
          const open = indexedDB.open('countersign');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const db = open.result;
            const read = db.transaction(name).objectStore(name).getAll();
            read.onsuccess = () => {
              resolve(read.result as T[]);
              db.close();
            };
            read.onerror = () => reject(read.error);
          };
        }),
      store,
    );
  }

  actions(): Promise<PendingActionRow[]> {
    return this.all<PendingActionRow>('actions');
  }

  /** The log in chain order. */
  async log(): Promise<Array<LogEvent & { synced: 0 | 1 }>> {
    return (await this.all<LogEvent & { synced: 0 | 1 }>('log')).sort((a, b) => a.epoch - b.epoch || a.seq - b.seq);
  }

  async setting<T>(key: string): Promise<T | undefined> {
    return ((await this.all<{ key: string; value: unknown }>('settings')).find((s) => s.key === key)?.value as T | undefined) ?? undefined;
  }

  async close(): Promise<void> {
    await this.page?.close().catch(() => undefined);
    this.page = null;
  }
}
