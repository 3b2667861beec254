// The page's fetch, wrapped: a write to this origin that is an adapter action (or a variant of one)
// and that an assistant may have written is held, and re-issued with the approvals once approved;
// every other request goes out exactly as the page made it. Page MAIN world only; sends only through
// the fetch captured at install.
import { actionFor, isSameOriginWrite, mustHold } from './hold-decision';
import { APPROVAL_HEADER } from '../../protocol/request-fields';
import { authorshipSignals } from './authorship';
import { isTextFetchBody, requestBodyText } from './body-text';
import { approvalHeaderValue } from './hook-channel';
import type { HookChannel, Released } from './hook-channel';

/** What a held fetch the extension refused resolves with: the tool's own error shape, with the outcome. */
function refusal(outcome: string, message: string): Response {
  return new Response(JSON.stringify({ error: { code: outcome, message } }), { status: 403, headers: { 'content-type': 'application/json', 'countersign-outcome': outcome } });
}

/** Called at install, before any page script: the page's fetch is captured here, first. */
export function installFetch(win: Window & typeof globalThis, channel: HookChannel): void {
  const origFetch = win.fetch.bind(win);
  win.fetch = async function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    // Inspect a copy: constructing a Request from the page's own would consume its body, and a
    // request that is not held must go out exactly as the page made it.
    const request = new Request(input instanceof Request ? input.clone() : input, init);
    const method = request.method.toUpperCase();
    const url = new URL(request.url);
    if (!isSameOriginWrite(win.location, method, url)) return origFetch(input, init);
    const c = channel.config ?? (await channel.ready);
    const action = c && actionFor(c, method, url);
    if (!c || !action) return origFetch(input, init);

    const body = await requestBodyText(request);
    const contentType = request.headers.get('content-type');
    const sig = authorshipSignals(c, request.headers, contentType, body, win);
    if (!mustHold(action, sig.signals)) return origFetch(input, init);
    if (!isTextFetchBody(init?.body)) return refusal('failed', 'Countersign can hold only text, JSON and form bodies');

    let released: Released;
    try {
      released = await channel.hold('fetch', { method, url: url.href, contentType, body }, sig);
    } catch (error) {
      const e = error as Error & { outcome?: string };
      return refusal(e.outcome ?? 'failed', e.message);
    }
    const headers = new Headers(request.headers);
    headers.set(APPROVAL_HEADER, approvalHeaderValue(released.tokens));
    try {
      const response = await origFetch(url.href, { method, headers, body, credentials: request.credentials, mode: request.mode, redirect: request.redirect });
      channel.post({ t: 'outcome', id: released.id, outcome: 'released', status: response.status });
      return response;
    } catch (error) {
      channel.post({ t: 'outcome', id: released.id, outcome: 'failed', reason: 'network error on release' });
      throw error;
    }
  };
}
