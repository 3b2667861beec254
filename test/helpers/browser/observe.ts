// What the fault tests observe from outside the extension: the approval tokens that reached the tool
// over the network, the verifier's decisions for one action, and a held post's page. Node only (browser tests).
import type { Page } from 'playwright-core';
import type { Stack } from './stack';
import { ForumPage } from './pages/demo-pages';
import type { ExtensionBrowser } from './browser';
import { enrollAs } from './protection';

/** Every request a page sent with an approval token (the hooks only ever send one on release). */
export function watchReleases(page: Page): { tokens: string[] } {
  const seen = { tokens: [] as string[] };
  page.on('request', (request) => {
    const token = request.headers()['countersign-approval'];
    if (token) seen.tokens.push(token);
  });
  return seen;
}

/** The claims of a compact JWS, unverified (the verifier has checked them; the test only compares). */
export function claimsOf(token: string): { jti: string; trc: string } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string; trc: string };
}

/** The verifier's decision codes for one action's trace, e.g. ['allow'] or ['replayed']. */
export async function decisionsFor(stack: Stack, traceId: string): Promise<string[]> {
  const res = await stack.admin('GET', `/v1/admin/events?trace=${traceId}`);
  if (!res.ok) throw new Error(`GET /v1/admin/events answered ${res.status}`);
  const body = (await res.json()) as { decisions: Array<{ code: string }> };
  return body.decisions.map((d) => d.code);
}

/** Enrolled as alice, on topic 1 of the forum, signed in. */
export async function forumAsAlice(browser: ExtensionBrowser, stack: Stack): Promise<ForumPage> {
  await enrollAs(browser, stack);
  const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  return forum;
}

/** The assistant widget's own status line: "Posted", or "Refused: <code> (…)". */
export function assistantStatus(forum: ForumPage): Promise<string | null> {
  return forum.page.locator('[data-assistant-status]').textContent();
}

/**
 * Sends one of the background's messages from an extension page, exactly as the page's own code does
 * (the @webext-core/messaging envelope); answers the background's Outcome.
 */
export function askBackground(page: Page, type: string, data: unknown): Promise<{ ok: boolean; code?: string; message?: string; value?: unknown }> {
  return page.evaluate(
    ([type, data]) =>
      new Promise<{ ok: boolean; code?: string; message?: string; value?: unknown }>((resolve, reject) =>
        chrome.runtime.sendMessage({ id: 1, type, data, timestamp: Date.now() }, (answer: { res?: { ok: boolean } }) => {
          if (chrome.runtime.lastError) reject(new Error(chrome.runtime.lastError.message));
          else resolve(answer.res!);
        }),
      ),
    [type, data] as const,
  );
}
