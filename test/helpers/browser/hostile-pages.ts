// Shared pieces of the hostile-page browser tests: alice's enrolled forum tab, the extension's own
// records of held actions, what the browser really sent, and the approval token's claims. Node only (tests).
import type { Page, Request } from 'playwright-core';
import type { PendingActionRow } from '@/lib/extension/db';
import type { ExtensionBrowser } from './browser';
import type { Stack } from './stack';
import { enrollAs } from './fixtures';
import { ForumPage } from './pages/demo-pages';

export const APPROVAL_HEADER = 'countersign-approval';

/** Alice's browser, enrolled, on topic 1 of the forum. */
export async function forumAsAlice(browser: ExtensionBrowser, stack: Stack, page?: Page): Promise<ForumPage> {
  await enrollAs(browser, stack);
  const forum = new ForumPage(page ?? (await browser.context.newPage()), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  return forum;
}

/** The background's own records of held actions, read from its IndexedDB inside the service worker. */
export async function heldRecords(browser: ExtensionBrowser): Promise<PendingActionRow[]> {
  const worker = browser.context.serviceWorkers().at(-1) ?? browser.serviceWorker;
  return worker.evaluate(
    () =>
      new Promise<PendingActionRow[]>((resolve, reject) => {
        const open = indexedDB.open('countersign');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const read = open.result.transaction('actions').objectStore('actions').getAll();
          read.onsuccess = () => resolve(read.result as PendingActionRow[]);
          read.onerror = () => reject(read.error);
        };
      }),
  );
}

/** Every request a page sends to the forum's reply API, as the browser put it on the wire. */
export function recordReplyRequests(page: Page): Request[] {
  const seen: Request[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && /\/api\/topics\/\d+\/replies$/.test(new URL(r.url()).pathname)) seen.push(r);
  });
  return seen;
}

/** The claims of a compact JWS, unverified (the verifier checks them; tests only compare). */
export function claimsOf(token: string): { act: { dig: string; m: string; u: string }; jti: string; agt: string } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as never;
}
