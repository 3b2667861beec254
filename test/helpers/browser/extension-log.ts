// Reads the extension's own log from its IndexedDB, inside the service worker. Node only (browser tests).
import type { LogEvent } from '@/lib/protocol/index';
import type { ExtensionBrowser } from './browser';

export async function extensionLog(browser: ExtensionBrowser): Promise<LogEvent[]> {
  // The worker may have been stopped and restarted: take the live one, and never wait forever on it.
  const worker = browser.context.serviceWorkers().at(-1) ?? (await browser.context.waitForEvent('serviceworker', { timeout: 10_000 }));
  const read = worker.evaluate(
    () =>
      new Promise<LogEvent[]>((resolve, reject) => {
        const open = indexedDB.open('countersign');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const read = open.result.transaction('log').objectStore('log').getAll();
          read.onsuccess = () => resolve((read.result as LogEvent[]).sort((a, b) => a.epoch - b.epoch || a.seq - b.seq));
          read.onerror = () => reject(read.error);
        };
      }),
  );
  return Promise.race([read, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the service worker did not answer')), 5000))]);
}
