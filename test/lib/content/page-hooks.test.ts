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
import { APPROVAL_FIELD, APPROVAL_HEADER } from '@/lib/protocol/request-fields';
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

/** A page's FormData as far as the hooks read it (linkedom has none): named inputs and textareas, in order. */
class FakeFormData {
  entries: Array<[string, string]>;
  constructor(form: Element) {
    this.entries = [...form.querySelectorAll('input[name], textarea[name]')].map((el) => [el.getAttribute('name')!, (el as HTMLInputElement).value ?? '']);
  }
  [Symbol.iterator]() {
    return this.entries[Symbol.iterator]();
  }
}

interface XhrSent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * A page with the hooks installed (and configured, unless told otherwise): what they propose and
 * report, what went out unheld or released through fetch, XHR and form submission, and a way to
 * answer as the bridge.
 */
async function page(config: HookConfig = CONFIG, { configured = true } = {}) {
  const { document } = parseHTML('<html><body><textarea data-assistant-draft>Rotate the keys.</textarea></body></html>');
  const listeners = new Map<string, Array<(e: unknown) => void>>();
  const sent: Request[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    sent.push(new Request(input instanceof Request ? input : new URL(String(input), ORIGIN), init));
    return new Response('{}', { status: 201 });
  });
  // The page's own XMLHttpRequest: each request as it was sent, and abort.
  const sentXhr: XhrSent[] = [];
  class XMLHttpRequest {
    req: XhrSent = { method: '', url: '', headers: {}, body: undefined };
    status = 0;
    aborted = false;
    private loadend: Array<() => void> = [];
    open(method: string, url: string) {
      this.req = { method, url: String(url), headers: {}, body: undefined };
    }
    setRequestHeader(name: string, value: string) {
      this.req.headers[name.toLowerCase()] = value;
    }
    send(body?: unknown) {
      this.req.body = body;
      sentXhr.push(this.req);
      this.status = 201;
      queueMicrotask(() => this.loadend.forEach((fn) => fn()));
    }
    abort() {
      this.aborted = true;
    }
    addEventListener(type: string, fn: () => void) {
      if (type === 'loadend') this.loadend.push(fn);
    }
  }
  // The page's own HTMLFormElement: its submit() and requestSubmit() record what the form sent.
  const forms = new WeakSet<object>();
  const submitted: Array<{ via: string; data: Array<[string, string]> }> = [];
  class PageFormElement {
    static [Symbol.hasInstance](x: unknown) {
      return forms.has(x as object);
    }
    submit(this: Element) {
      submitted.push({ via: 'submit', data: [...new FakeFormData(this)] });
    }
    requestSubmit(this: Element) {
      submitted.push({ via: 'requestSubmit', data: [...new FakeFormData(this)] });
    }
  }
  const win = {
    fetch,
    XMLHttpRequest,
    HTMLFormElement: PageFormElement,
    FormData: FakeFormData,
    document,
    location: { origin: ORIGIN, href: `${ORIGIN}/p/runbook` },
    navigator: { webdriver: false },
    addEventListener: (type: string, fn: (e: unknown) => void) => listeners.set(type, [...(listeners.get(type) ?? []), fn]),
    postMessage: () => undefined,
  };
  installPageHooks(win as unknown as Window & typeof globalThis);
  const channel = new MessageChannel();
  const proposals: Array<Extract<HookToBridge, { t: 'propose' }>> = [];
  const outcomes: Array<Extract<HookToBridge, { t: 'outcome' }>> = [];
  channel.port2.onmessage = (e: MessageEvent<HookToBridge>) => {
    if (e.data.t === 'propose') proposals.push(e.data);
    if (e.data.t === 'outcome') outcomes.push(e.data);
  };
  for (const fn of listeners.get('message') ?? []) fn({ source: win, data: { type: PORT_MESSAGE }, ports: [channel.port1] });
  const say = (msg: BridgeToHook) => channel.port2.postMessage(msg);
  if (configured) say({ t: 'config', config });
  await new Promise((r) => setTimeout(r, 10));
  const pageFetch = (path: string, init: RequestInit) => (win.fetch as typeof globalThis.fetch)(new URL(path, ORIGIN), init);
  const settle = () => new Promise((r) => setTimeout(r, 20));
  /** A form in the page, as the hooks see one (linkedom's forms have no `elements`). */
  const form = (html: string) => {
    const holder = document.createElement('div');
    holder.innerHTML = html;
    document.body.append(holder);
    const f = holder.querySelector('form')!;
    Object.defineProperty(f, 'elements', { get: () => f.querySelectorAll('input, textarea') });
    // form.submit() is the prototype's, as the page (and the hooks) left it.
    Object.defineProperty(f, 'submit', { value: () => win.HTMLFormElement.prototype.submit.call(f as unknown as never) });
    forms.add(f);
    return f as unknown as HTMLFormElement;
  };
  /** A submit event as the browser dispatches it to the hooks' capturing listener. */
  const submitEvent = (target: unknown, isTrusted: boolean) => {
    const event = { target, submitter: null, isTrusted, stopped: false, preventDefault() {}, stopImmediatePropagation() {
      event.stopped = true;
    } };
    for (const fn of listeners.get('submit') ?? []) fn(event);
    return event;
  };
  return { win, pageFetch, proposals, outcomes, sent, sentXhr, submitted, say, settle, form, submitEvent, xhr: () => new win.XMLHttpRequest(), close: () => channel.port2.close() };
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

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.owner.sig';

describe('page hooks: fetch, held and released', () => {
  it('approved: the held request goes out once, with the owner\'s token and exactly the held body; the bridge hears its status', async () => {
    const p = await page();
    const response = p.pageFetch('/api/pages/a/comments', json({ text: 'LGTM' }, { 'X-Assistant': 'wiki-helper' }));
    await p.settle();
    expect(p.sent).toHaveLength(0);
    p.say({ t: 'release', id: p.proposals[0]!.id, tokens: [TOKEN] });
    expect((await response).status).toBe(201);
    await p.settle();
    expect(p.sent).toHaveLength(1);
    const [out] = p.sent;
    expect([out!.method, out!.url, out!.headers.get(APPROVAL_HEADER), await out!.text()]).toEqual(['POST', `${ORIGIN}/api/pages/a/comments`, TOKEN, p.proposals[0]!.request.body]);
    expect(p.outcomes).toEqual([{ t: 'outcome', id: p.proposals[0]!.id, outcome: 'released', status: 201 }]);
    p.close();
  });

  it('rejected by its owner: the page\'s fetch gets a 403 naming the outcome, and nothing goes out', async () => {
    const p = await page();
    const response = p.pageFetch('/api/pages/a/comments', json({ text: 'x' }, { 'X-Assistant': 'wiki-helper' }));
    await p.settle();
    p.say({ t: 'settle', id: p.proposals[0]!.id, outcome: 'rejected', message: 'not this' });
    const r = await response;
    expect([r.status, r.headers.get('countersign-outcome'), await r.json()]).toEqual([403, 'rejected', { error: { code: 'rejected', message: 'not this' } }]);
    expect(p.sent).toHaveLength(0);
    p.close();
  });

  it('an assistant\'s request with a body the hooks cannot hold (bytes) is refused, never sent unheld', async () => {
    const p = await page();
    const r = await p.pageFetch('/api/pages/a/comments', { method: 'POST', headers: { 'X-Assistant': 'wiki-helper' }, body: new Blob(['{"text":"x"}']) });
    expect([r.status, r.headers.get('countersign-outcome')]).toEqual([403, 'failed']);
    expect(p.proposals).toHaveLength(0);
    expect(p.sent).toHaveLength(0);
    p.close();
  });

  it('a page that wraps fetch after install never sees the approval: the release goes out through the fetch captured at install', async () => {
    const p = await page();
    const hooked = p.win.fetch as typeof globalThis.fetch;
    const seen: unknown[] = [];
    p.win.fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(init?.headers);
      return hooked(input, init);
    });
    const response = p.pageFetch('/api/pages/a/comments', json({ text: 'x' }, { 'X-Assistant': 'wiki-helper' }));
    await p.settle();
    p.say({ t: 'release', id: p.proposals[0]!.id, tokens: [TOKEN] });
    await response;
    expect(seen).toHaveLength(1);
    expect(JSON.stringify(seen)).not.toContain(TOKEN);
    expect(p.sent.map((r) => r.headers.get(APPROVAL_HEADER))).toEqual([TOKEN]);
    p.close();
  });
});

describe('page hooks: XMLHttpRequest', () => {
  const send = (x: XMLHttpRequest, path: string, body: XMLHttpRequestBodyInit | null, headers: Record<string, string> = {}) => {
    x.open('POST', path);
    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
    x.send(body);
  };

  it('an assistant\'s XHR to an action waits for approval, then goes out with the owner\'s token and the held body; the bridge hears its status', async () => {
    const p = await page();
    const x = p.xhr() as unknown as XMLHttpRequest;
    send(x, '/api/pages/a/comments', '{"text":"LGTM"}', { 'content-type': 'application/json', 'X-Assistant': 'wiki-helper' });
    await p.settle();
    expect(p.sentXhr).toHaveLength(0);
    expect(p.proposals.map((m) => [m.kind, m.request])).toEqual([['xhr', { method: 'POST', url: `${ORIGIN}/api/pages/a/comments`, contentType: 'application/json', body: '{"text":"LGTM"}' }]]);
    p.say({ t: 'release', id: p.proposals[0]!.id, tokens: [TOKEN] });
    await p.settle();
    expect(p.sentXhr).toEqual([{ method: 'POST', url: '/api/pages/a/comments', headers: { 'content-type': 'application/json', 'x-assistant': 'wiki-helper', [APPROVAL_HEADER.toLowerCase()]: TOKEN }, body: '{"text":"LGTM"}' }]);
    expect(p.outcomes).toEqual([{ t: 'outcome', id: p.proposals[0]!.id, outcome: 'released', status: 201, reason: 'network error on release' }]);
    p.close();
  });

  it('a string body without a content type is proposed as text/plain, as the browser sends it', async () => {
    const p = await page();
    send(p.xhr() as unknown as XMLHttpRequest, '/api/pages/a/comments', 'hello', { 'X-Assistant': 'wiki-helper' });
    await p.settle();
    expect(p.proposals[0]!.request.contentType).toBe('text/plain;charset=UTF-8');
    p.close();
  });

  it('a page that wraps setRequestHeader and send after install never sees the approval: the release goes through the methods captured at install', async () => {
    const p = await page();
    const proto = p.win.XMLHttpRequest.prototype as unknown as { setRequestHeader: (...a: unknown[]) => void; send: (...a: unknown[]) => void };
    const seen: unknown[] = [];
    for (const name of ['setRequestHeader', 'send'] as const) {
      const hooked = proto[name];
      proto[name] = function (this: unknown, ...args: unknown[]) {
        seen.push([name, ...args]);
        return hooked.apply(this, args);
      };
    }
    send(p.xhr() as unknown as XMLHttpRequest, '/api/pages/a/comments', '{"text":"x"}', { 'content-type': 'application/json', 'X-Assistant': 'wiki-helper' });
    await p.settle();
    p.say({ t: 'release', id: p.proposals[0]!.id, tokens: [TOKEN] });
    await p.settle();
    expect(seen.map((call) => (call as string[])[0])).toEqual(['setRequestHeader', 'setRequestHeader', 'send']);
    expect(JSON.stringify(seen)).not.toContain(TOKEN);
    expect(p.sentXhr.map((r) => r.headers[APPROVAL_HEADER.toLowerCase()])).toEqual([TOKEN]);
    p.close();
  });

  it('rejected by its owner: the XHR is aborted, never sent', async () => {
    const p = await page();
    const x = p.xhr() as unknown as XMLHttpRequest & { aborted: boolean };
    send(x, '/api/pages/a/comments', '{}', { 'content-type': 'application/json', 'X-Assistant': 'wiki-helper' });
    await p.settle();
    p.say({ t: 'settle', id: p.proposals[0]!.id, outcome: 'rejected', message: 'no' });
    await p.settle();
    expect([x.aborted, p.sentXhr.length]).toEqual([true, 0]);
    p.close();
  });

  it('an assistant\'s XHR with a body the hooks cannot hold (a Blob) is aborted; a person\'s XHR goes out untouched', async () => {
    const p = await page();
    const blob = p.xhr() as unknown as XMLHttpRequest & { aborted: boolean };
    send(blob, '/api/pages/a/comments', new Blob(['x']), { 'X-Assistant': 'wiki-helper' });
    send(p.xhr() as unknown as XMLHttpRequest, '/api/pages/a/comments', '{"text":"mine"}', { 'content-type': 'application/json' });
    await p.settle();
    expect(blob.aborted).toBe(true);
    expect(p.proposals).toHaveLength(0);
    expect(p.sentXhr.map((r) => r.body)).toEqual(['{"text":"mine"}']);
    p.close();
  });
});

describe('page hooks: form submission', () => {
  const COMMENT_FORM = '<form method="post" action="/api/pages/a/comments"><textarea name="text">Rotate the keys.</textarea><input type="hidden" name="csrf" value="t"></form>';

  it('a script\'s submit() of an action form is held (an untrusted, scripted submission) and, approved, submitted once with the owner\'s approval field', async () => {
    const p = await page();
    const f = p.form(COMMENT_FORM);
    f.submit();
    await p.settle();
    expect(p.submitted).toHaveLength(0);
    expect(p.proposals.map((m) => [m.kind, m.request, m.signals])).toEqual([
      ['form', { method: 'POST', url: `${ORIGIN}/api/pages/a/comments`, contentType: 'application/x-www-form-urlencoded', body: 'text=Rotate+the+keys.&csrf=t' }, ['assistant-marker', 'untrusted-event', 'scripted-content']],
    ]);
    p.say({ t: 'release', id: p.proposals[0]!.id, tokens: [TOKEN] });
    await p.settle();
    expect(p.submitted).toEqual([{ via: 'submit', data: [['text', 'Rotate the keys.'], ['csrf', 't'], [APPROVAL_FIELD, TOKEN]] }]);
    expect(p.outcomes).toEqual([{ t: 'outcome', id: p.proposals[0]!.id, outcome: 'released' }]);
    p.close();
  });

  it('a form the page changed after approval is not submitted: the bridge hears why', async () => {
    const p = await page();
    const f = p.form(COMMENT_FORM);
    f.submit();
    await p.settle();
    f.querySelector('textarea')!.textContent = 'payroll-2026 is readable by everyone.';
    p.say({ t: 'release', id: p.proposals[0]!.id, tokens: [TOKEN] });
    await p.settle();
    expect(p.submitted).toHaveLength(0);
    expect(p.outcomes).toEqual([{ t: 'outcome', id: p.proposals[0]!.id, outcome: 'failed', reason: 'the page changed the form after approval' }]);
    p.close();
  });

  it('a person\'s trusted submit event on a form nobody scripted goes ahead; an untrusted one is stopped and held', async () => {
    const p = await page({ ...CONFIG, markerSelectors: [] });
    const f = p.form('<form method="post" action="/api/pages/a/comments"><input type="hidden" name="csrf" value="t"></form>');
    expect(p.submitEvent(f, true).stopped).toBe(false);
    expect(p.submitEvent(f, false).stopped).toBe(true);
    await p.settle();
    expect(p.proposals.map((m) => m.signals)).toEqual([['untrusted-event']]);
    p.close();
  });

  it('a form that is no action, or goes to another origin, is left alone', async () => {
    const p = await page();
    const drafts = p.form('<form method="post" action="/api/drafts"><textarea name="text">Rotate the keys.</textarea></form>');
    const away = p.form('<form method="post" action="http://elsewhere.example/api/pages/a/comments"><textarea name="text">Rotate the keys.</textarea></form>');
    drafts.submit();
    away.submit();
    expect(p.submitEvent(drafts, false).stopped).toBe(false);
    await p.settle();
    expect(p.proposals).toHaveLength(0);
    expect(p.submitted.map((s) => s.via)).toEqual(['submit', 'submit']);
    p.close();
  });

  it('a submission before the config arrived is stopped, and submitted again once it is there through the requestSubmit captured at install (not one the page put in later)', async () => {
    const p = await page(CONFIG, { configured: false });
    const f = p.form('<form method="post" action="/api/drafts"><input name="a" value="1"></form>');
    const proto = p.win.HTMLFormElement.prototype as unknown as { requestSubmit: () => void };
    const replaced = vi.fn();
    proto.requestSubmit = replaced;
    expect(p.submitEvent(f, true).stopped).toBe(true);
    p.say({ t: 'config', config: CONFIG });
    await p.settle();
    expect(replaced).not.toHaveBeenCalled();
    expect(p.submitted).toEqual([{ via: 'requestSubmit', data: [['a', '1']] }]);
    p.close();
  });
});
