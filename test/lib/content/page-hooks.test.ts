// The page-world hooks decide locally whether to hold, with the protocol's path matcher and body reader:
// an adapter action's request an assistant wrote is proposed — without naming an action or a text, the
// background decides both —; a variant of an action's path is proposed too (so the background refuses
// it rather than it going out unheld); other requests go out untouched. A marker header's value is the
// agent hint, with no required prefix. Driven through a fake page window (linkedom document, Node's
// fetch classes and MessageChannel). Node only (tests).
import { parseHTML } from 'linkedom';
import { describe, expect, it, vi } from 'vitest';
import type { BridgeToHook, HookConfig, HookToBridge } from '@/lib/content/channel';
import { PORT_MESSAGE } from '@/lib/content/channel';
import { installPageHooks } from '@/lib/content/page-hooks';

const ORIGIN = 'http://wiki.corp:8090';

const CONFIG: HookConfig = {
  actions: [
    { request: { method: 'POST', url: '/api/pages/*/comments' }, requires: 'agents' },
    { request: { method: 'PUT', url: '/api/pages/*/access' }, requires: 'always' },
  ],
  generic: false,
  markerHeaders: ['X-Assistant'],
  markerFields: { author_kind: 'assistant' },
  markerSelectors: ['[data-assistant-draft]'],
  strictMode: false,
};

/** A page with the hooks installed and configured; what they propose, and what went out unheld. */
async function page(config: HookConfig = CONFIG) {
  const { document, HTMLFormElement } = parseHTML('<html><body><textarea data-assistant-draft>Rotate the keys.</textarea></body></html>');
  const listeners = new Map<string, Array<(e: unknown) => void>>();
  const sent: Request[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    sent.push(new Request(input instanceof Request ? input : new URL(String(input), ORIGIN), init));
    return new Response('{}', { status: 201 });
  });
  class XMLHttpRequest {}
  const win = {
    fetch,
    XMLHttpRequest,
    HTMLFormElement,
    document,
    location: { origin: ORIGIN, href: `${ORIGIN}/p/runbook` },
    navigator: { webdriver: false },
    addEventListener: (type: string, fn: (e: unknown) => void) => listeners.set(type, [...(listeners.get(type) ?? []), fn]),
    postMessage: () => undefined,
  };
  installPageHooks(win as unknown as Window & typeof globalThis);
  const channel = new MessageChannel();
  const proposals: Array<Extract<HookToBridge, { t: 'propose' }>> = [];
  channel.port2.onmessage = (e: MessageEvent<HookToBridge>) => {
    if (e.data.t === 'propose') proposals.push(e.data);
  };
  for (const fn of listeners.get('message') ?? []) fn({ source: win, data: { type: PORT_MESSAGE }, ports: [channel.port1] });
  channel.port2.postMessage({ t: 'config', config } satisfies BridgeToHook);
  await new Promise((r) => setTimeout(r, 10));
  const pageFetch = (path: string, init: RequestInit) => (win.fetch as typeof globalThis.fetch)(new URL(path, ORIGIN), init);
  const settle = () => new Promise((r) => setTimeout(r, 20));
  return { pageFetch, proposals, sent, settle, close: () => channel.port2.close() };
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('page hooks: whether to hold', () => {
  it('an assistant-marked request to an action is proposed, without an action index or a post text', async () => {
    const p = await page();
    void p.pageFetch('/api/pages/runbook/comments', json({ text: 'LGTM' }, { 'X-Assistant': 'wiki-helper' }));
    await p.settle();
    expect(p.proposals).toHaveLength(1);
    const proposal = p.proposals[0]!;
    expect(proposal).not.toHaveProperty('action');
    expect(proposal).not.toHaveProperty('content');
    expect(proposal).toMatchObject({ kind: 'fetch', request: { method: 'POST', url: `${ORIGIN}/api/pages/runbook/comments` }, signals: ['assistant-marker'], agentHint: 'wiki-helper' });
    expect(p.sent).toHaveLength(0);
    p.close();
  });

  it('the marker header\'s whole value is the hint (any agent id, prefix or not); the background decides whether to believe it', async () => {
    const p = await page();
    void p.pageFetch('/api/pages/a/comments', json({}, { 'X-Assistant': ' agent:forum-helper ' }));
    void p.pageFetch('/api/pages/a/comments', json({}, { 'X-Assistant': '' }));
    await p.settle();
    expect(p.proposals.map((x) => x.agentHint)).toEqual(['agent:forum-helper', null]);
    p.close();
  });

  it('a marker field counts wherever it appears, also as the second value of a repeated form field', async () => {
    const p = await page();
    void p.pageFetch('/api/pages/a/comments', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'text=hi&author_kind=person&author_kind=assistant' });
    await p.settle();
    expect(p.proposals.map((x) => x.signals)).toEqual([['assistant-marker']]);
    p.close();
  });

  it('a marker element counts when the body carries its text, at any depth (a JSON pointer content)', async () => {
    const p = await page();
    void p.pageFetch('/api/pages/a/comments', json({ comment: { text: 'Rotate the keys.' } }));
    await p.settle();
    expect(p.proposals.map((x) => x.signals)).toEqual([['assistant-marker']]);
    p.close();
  });

  it.each([
    ['another case', '/API/pages/a/comments'],
    ['a trailing slash', '/api/pages/a/comments/'],
    ['a doubled slash', '/api//pages/a/comments'],
    ['an encoded slash', '/api/pages/a%2Fb/comments'],
    ['another method than the action\'s (PUT → POST)', '/api/pages/a/access'],
  ])('a variant of an action\'s request (%s) an assistant wrote is proposed, for the background to refuse', async (_name, path) => {
    const p = await page();
    void p.pageFetch(path, json({}, { 'X-Assistant': 'wiki-helper' }));
    await p.settle();
    expect(p.proposals).toHaveLength(1);
    expect(p.sent).toHaveLength(0);
    p.close();
  });

  it('a request that is no action and no variant of one goes out untouched, marker or not', async () => {
    const p = await page();
    await p.pageFetch('/api/drafts', json({ text: 'autosave' }, { 'X-Assistant': 'wiki-helper' }));
    expect(p.proposals).toHaveLength(0);
    expect(p.sent.map((r) => new URL(r.url).pathname)).toEqual(['/api/drafts']);
    p.close();
  });

  it('a person\'s request to an "agents" action goes out; to an "always" action it is held', async () => {
    const p = await page();
    await p.pageFetch('/api/pages/a/comments', json({ text: 'mine' }));
    void p.pageFetch('/api/pages/a/access', { ...json({ visibility: 'all' }), method: 'PUT' });
    await p.settle();
    expect(p.sent.map((r) => r.method)).toEqual(['POST']);
    expect(p.proposals.map((x) => [x.request.method, x.signals])).toEqual([['PUT', []]]);
    p.close();
  });

  it('on a generic site (no adapter) every non-GET request an assistant wrote is proposed', async () => {
    const p = await page({ ...CONFIG, actions: [], generic: true });
    void p.pageFetch('/anything', json({}, { 'X-Assistant': 'x' }));
    await p.pageFetch('/anything', { method: 'GET' });
    await p.settle();
    expect(p.proposals).toHaveLength(1);
    expect(p.sent.map((r) => r.method)).toEqual(['GET']);
    p.close();
  });
});
