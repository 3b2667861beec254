// The page's XMLHttpRequest, hooked on its prototype: open() and setRequestHeader() note what the
// request is, send() holds it as fetch does (an approved one goes out with the owner's token, any
// other is aborted). Page MAIN world only; calls only the open/send/setRequestHeader captured at install.
import { APPROVAL_HEADER } from '../../protocol/request-fields';
import { xhrBodyText, xhrContentType } from './body-text';
import { authorshipSignals } from './authorship';
import { approvalHeaderValue } from './hook-channel';
import type { HookChannel } from './hook-channel';
import { actionFor, isSameOriginWrite, mustHold } from './hold-decision';

/** Called at install, before any page script: the prototype's own methods are captured here, first. */
export function installXhr(win: Window & typeof globalThis, channel: HookChannel): void {
  const proto = win.XMLHttpRequest.prototype;
  const { open, send, setRequestHeader } = proto;
  const state = new WeakMap<XMLHttpRequest, { method: string; url: URL; headers: Headers }>();
  proto.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) {
    state.set(this, { method: method.toUpperCase(), url: new URL(url, win.location.href), headers: new Headers() });
    return (open as (...a: unknown[]) => void).call(this, method, url, ...rest);
  } as typeof proto.open;
  proto.setRequestHeader = function (this: XMLHttpRequest, name: string, value: string) {
    state.get(this)?.headers.append(name, value);
    return setRequestHeader.call(this, name, value);
  };
  proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    const s = state.get(this);
    if (!s || !isSameOriginWrite(win.location, s.method, s.url)) return send.call(this, body);
    const text = xhrBodyText(body);
    void (async () => {
      const c = channel.config ?? (await channel.ready);
      const action = c && actionFor(c, s.method, s.url);
      if (!c || !action) return send.call(this, body);
      const contentType = xhrContentType(s.headers.get('content-type'), body);
      const sig = authorshipSignals(c, s.headers, contentType, text ?? null, win);
      if (!mustHold(action, sig.signals)) return send.call(this, body);
      if (text === undefined) return this.abort();
      try {
        const { id, tokens } = await channel.hold('xhr', { method: s.method, url: s.url.href, contentType, body: text }, sig);
        setRequestHeader.call(this, APPROVAL_HEADER, approvalHeaderValue(tokens));
        this.addEventListener('loadend', () => channel.post({ t: 'outcome', id, outcome: this.status ? 'released' : 'failed', status: this.status, reason: 'network error on release' }), { once: true });
        send.call(this, text);
      } catch {
        this.abort();
      }
    })();
  };
}
