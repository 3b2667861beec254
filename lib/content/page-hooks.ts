// Page-world hooks on protected sites: wraps fetch, XMLHttpRequest and form submission, holds the
// side-effecting requests an assistant authored, and re-issues them with the owner's token. Runs in
// the page's MAIN world at document_start, before page scripts; no extension APIs here, only a
// private MessagePort to the isolated content script. Kept small: it runs on every page load.
import type { BridgeToHook, HeldRequest, HookConfig, HookToBridge } from './channel';
import { findAction, nearAction } from '../policy/adapter-actions';
import { APPROVAL_FIELD, APPROVAL_HEADER, hasFieldValue, readTextBodyFields } from '../protocol/request-fields';
import type { BodyFields } from '../protocol/request-fields';
import { HELLO_MESSAGE, PORT_MESSAGE } from './channel';

type HookAction = Omit<HookConfig['actions'][number], 'request'>;
/** A request held as the generic adapter holds it: side-effecting. */
const GENERIC: HookAction = { requires: 'agents' };
/** Without a config from the extension within this time, requests pass: the server still enforces. */
const CONFIG_WAIT_MS = 30_000;

interface Pending {
  release(token: string): void;
  settle(outcome: string, message: string): void;
}

export function installPageHooks(win: Window & typeof globalThis = window): void {
  // Captured before any page script runs, so a page that redefines them later cannot intercept.
  const origFetch = win.fetch.bind(win);
  const xhrProto = win.XMLHttpRequest.prototype;
  const origOpen = xhrProto.open;
  const origSend = xhrProto.send;
  const origSetHeader = xhrProto.setRequestHeader;
  const origSubmit = win.HTMLFormElement.prototype.submit;
  const origAddListener = win.addEventListener.bind(win);
  const doc = win.document;

  let port: MessagePort | null = null;
  let config: HookConfig | null = null;
  let configured!: (c: HookConfig | null) => void;
  const ready = new Promise<HookConfig | null>((resolve) => (configured = resolve));
  setTimeout(() => configured(null), CONFIG_WAIT_MS);
  /** True once the config arrived or the wait for it is over: submissions are decided from then on. */
  let settled = false;
  void ready.then(() => (settled = true));
  const pending = new Map<number, Pending>();
  let nextId = 1;
  /** Fields a person typed into (trusted input events): the rest were filled by script. */
  const typed = new WeakSet<EventTarget>();

  origAddListener('message', (event: MessageEvent) => {
    if (port || event.source !== win || (event.data as { type?: unknown })?.type !== PORT_MESSAGE || !event.ports[0]) return;
    port = event.ports[0];
    port.onmessage = (e: MessageEvent<BridgeToHook>) => onBridge(e.data);
    port.postMessage({ t: 'ready' } satisfies HookToBridge);
  });
  win.postMessage({ type: HELLO_MESSAGE }, win.location.origin);
  origAddListener('input', (e) => e.isTrusted && e.target && typed.add(e.target), true);

  function onBridge(msg: BridgeToHook): void {
    if (msg.t === 'config') {
      config = msg.config;
      configured(msg.config);
    } else if (msg.t === 'release') pending.get(msg.id)?.release(msg.token);
    else if (msg.t === 'settle') pending.get(msg.id)?.settle(msg.outcome, msg.message);
  }

  function post(msg: HookToBridge): void {
    port?.postMessage(msg);
  }

  /**
   * Whether a request may need holding, and as what: an adapter action (found with the protocol's path
   * matcher, as the background and the middleware match it), the generic adapter's rule, or null.
   * A variant of an action's request (another case, slash or method, an ambiguous path) is held too
   * when an assistant wrote it, so the background refuses it instead of it going out unheld.
   */
  function actionFor(c: HookConfig, method: string, url: URL): HookAction | null {
    if (url.origin !== win.location.origin || method === 'GET' || method === 'HEAD') return null;
    const hit = findAction(c.actions, method, url);
    if (hit) return hit.action;
    return c.generic || nearAction(c.actions, url) ? GENERIC : null;
  }

  /** Every string a body carries (form values, a JSON body's strings at any depth): what a marker element's text is compared with. */
  function texts(fields: BodyFields): string[] {
    if (fields.kind === 'form') return fields.pairs.map(([, v]) => v);
    const out: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') out.push(v.trim());
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    if (fields.kind === 'json') walk(fields.value);
    return out;
  }

  /**
   * DESIGN.md's authorship signals for one submission. A marker element counts when the body carries
   * its text, wherever (the post's own field is the background's to find); a marker header's value is
   * the agent it may name.
   */
  function signals(c: HookConfig, headers: Headers, fields: BodyFields, event?: { trusted: boolean; scripted: boolean }): { list: string[]; agentHint: string | null } {
    const list: string[] = [];
    let agentHint: string | null = null;
    for (const h of c.markerHeaders) {
      const v = headers.get(h);
      if (v !== null) {
        list.push('assistant-marker');
        const hint = v.trim();
        if (!agentHint && hint && hint.length <= 256) agentHint = hint;
      }
    }
    for (const [name, value] of Object.entries(c.markerFields)) if (hasFieldValue(fields, name, value)) list.push('assistant-marker');
    if (c.markerSelectors.length) {
      const sent = texts(fields).filter(Boolean);
      for (const el of doc.querySelectorAll<HTMLElement>(c.markerSelectors.join(','))) {
        if (sent.includes(((el as HTMLTextAreaElement).value ?? el.textContent ?? '').trim())) list.push('assistant-marker');
      }
    }
    if (event && !event.trusted) list.push('untrusted-event');
    if (event?.scripted) list.push('scripted-content');
    if (win.navigator.userActivation && !win.navigator.userActivation.isActive) list.push('no-user-activation');
    if (win.navigator.webdriver) list.push('webdriver');
    if (c.strictMode) list.push('strict-mode');
    return { list: [...new Set(list)], agentHint };
  }

  /** Proposes a held request; resolves with the token on approval, rejects with the outcome otherwise. */
  function hold(kind: 'fetch' | 'xhr' | 'form', request: HeldRequest, sig: { list: string[]; agentHint: string | null }): Promise<{ id: number; token: string }> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, {
        release: (token) => resolve({ id, token }),
        settle: (outcome, message) => {
          pending.delete(id);
          reject(Object.assign(new Error(message), { outcome }));
        },
      });
      post({ t: 'propose', id, kind, request, signals: sig.list, agentHint: sig.agentHint });
    });
  }

  function refusal(outcome: string, message: string): Response {
    return new Response(JSON.stringify({ error: { code: outcome, message } }), { status: 403, headers: { 'content-type': 'application/json', 'countersign-outcome': outcome } });
  }

  // --- fetch -------------------------------------------------------------------------------------
  win.fetch = async function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    // Inspect a copy: constructing a Request from the page's own would consume its body, and a
    // request that is not held must go out exactly as the page made it.
    const request = new Request(input instanceof Request ? input.clone() : input, init);
    const method = request.method.toUpperCase();
    const url = new URL(request.url);
    if (url.origin !== win.location.origin || method === 'GET' || method === 'HEAD') return origFetch(input, init);
    const c = config ?? (await ready);
    const action = c ? actionFor(c, method, url) : null;
    if (!c || action === null) return origFetch(input, init);

    const body = request.body ? await request.clone().text() : null;
    const contentType = request.headers.get('content-type');
    const sig = signals(c, request.headers, readTextBodyFields(contentType, body));
    if (!sig.list.length && action.requires !== 'always') return origFetch(input, init);
    if (init?.body instanceof FormData || (init?.body !== undefined && init.body !== null && typeof init.body !== 'string' && !(init.body instanceof URLSearchParams))) {
      return refusal('failed', 'Countersign can hold only text, JSON and form bodies');
    }

    let released: { id: number; token: string };
    try {
      released = await hold('fetch', { method, url: url.href, contentType, body }, sig);
    } catch (error) {
      const e = error as Error & { outcome?: string };
      return refusal(e.outcome ?? 'failed', e.message);
    }
    pending.delete(released.id);
    const headers = new Headers(request.headers);
    headers.set(APPROVAL_HEADER, released.token);
    try {
      const response = await origFetch(url.href, { method, headers, body, credentials: request.credentials, mode: request.mode, redirect: request.redirect });
      post({ t: 'outcome', id: released.id, outcome: 'released', status: response.status });
      return response;
    } catch (error) {
      post({ t: 'outcome', id: released.id, outcome: 'failed', reason: 'network error on release' });
      throw error;
    }
  };

  // --- XMLHttpRequest ----------------------------------------------------------------------------
  const xhrState = new WeakMap<XMLHttpRequest, { method: string; url: URL; headers: Headers }>();
  xhrProto.open = function open(this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) {
    xhrState.set(this, { method: method.toUpperCase(), url: new URL(url, win.location.href), headers: new Headers() });
    return (origOpen as (...a: unknown[]) => void).call(this, method, url, ...rest);
  } as typeof xhrProto.open;
  xhrProto.setRequestHeader = function setRequestHeader(this: XMLHttpRequest, name: string, value: string) {
    xhrState.get(this)?.headers.append(name, value);
    return origSetHeader.call(this, name, value);
  };
  xhrProto.send = function send(this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    sendXhr(this, body);
  };

  function sendXhr(xhr: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null): void {
    const state = xhrState.get(xhr);
    if (!state || state.url.origin !== win.location.origin || state.method === 'GET' || state.method === 'HEAD') return origSend.call(xhr, body);
    const text = typeof body === 'string' ? body : body instanceof URLSearchParams ? body.toString() : body == null ? null : undefined;
    void (async () => {
      const c = config ?? (await ready);
      const action = c ? actionFor(c, state.method, state.url) : null;
      if (!c || action === null) return origSend.call(xhr, body);
      const contentType = state.headers.get('content-type') ?? (body instanceof URLSearchParams ? 'application/x-www-form-urlencoded;charset=UTF-8' : typeof body === 'string' ? 'text/plain;charset=UTF-8' : null);
      const sig = signals(c, state.headers, readTextBodyFields(contentType, text ?? null));
      if (!sig.list.length && action.requires !== 'always') return origSend.call(xhr, body);
      if (text === undefined) return xhr.abort();
      try {
        const { id, token } = await hold('xhr', { method: state.method, url: state.url.href, contentType, body: text }, sig);
        pending.delete(id);
        origSetHeader.call(xhr, APPROVAL_HEADER, token);
        xhr.addEventListener('loadend', () => post({ t: 'outcome', id, outcome: xhr.status ? 'released' : 'failed', status: xhr.status, reason: 'network error on release' }), { once: true });
        origSend.call(xhr, text);
      } catch {
        xhr.abort();
      }
    })();
  }

  // --- forms -------------------------------------------------------------------------------------
  function formRequest(form: HTMLFormElement, submitter?: HTMLElement | null): { method: string; url: URL; body: string } {
    const method = (submitter?.getAttribute('formmethod') ?? form.getAttribute('method') ?? 'GET').toUpperCase();
    const url = new URL(submitter?.getAttribute('formaction') ?? form.getAttribute('action') ?? win.location.href, win.location.href);
    const data = new FormData(form, submitter ?? undefined);
    const params = new URLSearchParams();
    for (const [k, v] of data) if (k !== APPROVAL_FIELD && typeof v === 'string') params.append(k, v);
    return { method, url, body: params.toString() };
  }

  function hiddenField(name: string, value: string): HTMLInputElement {
    const field = doc.createElement('input');
    field.type = 'hidden';
    field.name = name;
    field.value = value;
    return field;
  }

  /** Makes a plain submit() send what pressing `submitter` would: its name=value right after it, its formaction and formmethod. */
  function asSubmittedBy(form: HTMLFormElement, submitter: HTMLElement | null | undefined): void {
    if (!submitter) return;
    const name = submitter.getAttribute('name');
    if (name) submitter.after(hiddenField(name, (submitter as HTMLButtonElement).value));
    for (const [from, to] of [['formaction', 'action'], ['formmethod', 'method']] as const) {
      const value = submitter.getAttribute(from);
      if (value !== null) form.setAttribute(to, value);
    }
  }

  function scripted(form: HTMLFormElement): boolean {
    return [...form.elements].some((el) => (el as HTMLInputElement).value && /^(TEXTAREA|INPUT)$/.test(el.tagName) && (el as HTMLInputElement).type !== 'hidden' && !typed.has(el));
  }

  /** Decides a form submission; true when held (the caller must not submit). */
  function holdForm(form: HTMLFormElement, submitter: HTMLElement | null | undefined, trusted: boolean): boolean {
    const c = config;
    if (!c) return false;
    const req = formRequest(form, submitter);
    const action = actionFor(c, req.method, req.url);
    if (action === null) return false;
    const sig = signals(c, new Headers(), readTextBodyFields('application/x-www-form-urlencoded', req.body), { trusted, scripted: scripted(form) });
    if (!sig.list.length && action.requires !== 'always') return false;
    hold('form', { method: req.method, url: req.url.href, contentType: 'application/x-www-form-urlencoded', body: req.body }, sig).then(
      ({ id, token }) => {
        pending.delete(id);
        // What you see is what you sign: the form as it is now must be the form that was approved.
        if (formRequest(form, submitter).body !== req.body) {
          post({ t: 'outcome', id, outcome: 'failed', reason: 'the page changed the form after approval' });
          return;
        }
        // submit() ignores the submitter: carry its name=value (in place) and formaction/formmethod over,
        // then check that exactly the approved method, URL and body will go out.
        asSubmittedBy(form, submitter);
        const sent = formRequest(form, null);
        if (sent.method !== req.method || sent.url.href !== req.url.href || sent.body !== req.body) {
          post({ t: 'outcome', id, outcome: 'failed', reason: 'the form would not send what was approved' });
          return;
        }
        form.append(hiddenField(APPROVAL_FIELD, token));
        post({ t: 'outcome', id, outcome: 'released' });
        origSubmit.call(form);
      },
      () => undefined,
    );
    return true;
  }

  origAddListener(
    'submit',
    (event: SubmitEvent) => {
      const form = event.target;
      if (!(form instanceof win.HTMLFormElement)) return;
      if (!settled) {
        // Too early to decide: stop this submission and submit again once the config is here,
        // so that the page's own handlers still run on the retried submit event.
        event.preventDefault();
        event.stopImmediatePropagation();
        void ready.then(() => form.requestSubmit(event.submitter ?? undefined));
        return;
      }
      if (holdForm(form, event.submitter, event.isTrusted)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );
  win.HTMLFormElement.prototype.submit = function submit(this: HTMLFormElement) {
    // submit() fires no submit event and is never a person's gesture.
    if (!settled) {
      void ready.then(() => (holdForm(this, null, false) ? undefined : origSubmit.call(this)));
      return;
    }
    if (!holdForm(this, null, false)) origSubmit.call(this);
  };
}
