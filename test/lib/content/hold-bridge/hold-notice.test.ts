// The hold notice on a protected page: one element, made on first show, in a closed shadow root the
// page cannot read (what is held and whose signature it waits for is the owner's, not the page's);
// each show replaces what it says; it goes with the script's context. Rendered with linkedom (the
// closed root is reached through a wrapped attachShadow). Node only (tests).
import { parseHTML } from 'linkedom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import { holdNotice } from '@/lib/content/hold-bridge/hold-notice';

function setUp() {
  const { document, HTMLElement } = parseHTML('<html><body><p>page</p></body></html>');
  const roots: ShadowRoot[] = [];
  const attach = HTMLElement.prototype.attachShadow;
  HTMLElement.prototype.attachShadow = function (this: HTMLElement, init: ShadowRootInit) {
    const root = attach.call(this, init) as ShadowRoot;
    roots.push(root);
    return root;
  };
  vi.stubGlobal('document', document);
  const invalidated: Array<() => void> = [];
  const ctx = { onInvalidated: (fn: () => void) => invalidated.push(fn) } as unknown as ContentScriptContext;
  return { document, roots, ctx, invalidate: () => invalidated.forEach((fn) => fn()) };
}

afterEach(() => vi.unstubAllGlobals());

describe('the hold notice', () => {
  it('nothing is drawn until the first show', () => {
    const { document, ctx } = setUp();
    holdNotice(ctx);
    expect(document.querySelector('countersign-hold-notice')).toBeNull();
  });

  it('one host in a closed shadow root: the page sees neither the text nor the root', () => {
    const { document, ctx, roots } = setUp();
    holdNotice(ctx).show('Waiting for alice to approve.', 'held');
    const host = document.querySelector('countersign-hold-notice')!;
    expect(host.shadowRoot).toBeNull();
    expect(host.textContent).toBe('');
    expect(roots).toHaveLength(1);
    const box = roots[0]!.querySelector('.notice')!;
    expect([box.getAttribute('data-state'), box.getAttribute('role'), box.textContent]).toEqual(['held', 'status', 'Held by CountersignWaiting for alice to approve.']);
  });

  it('each show replaces the title, text and state in the same notice', () => {
    const { document, ctx, roots } = setUp();
    const notice = holdNotice(ctx);
    notice.show('Waiting.', 'held');
    notice.show('not this', 'rejected');
    notice.show('odd', 'unknown-state');
    expect(document.querySelectorAll('countersign-hold-notice')).toHaveLength(1);
    const box = roots[0]!.querySelector('.notice')!;
    expect([box.getAttribute('data-state'), box.querySelector('strong')!.textContent, box.querySelector('span')!.textContent]).toEqual(['unknown-state', 'Countersign', 'odd']);
    notice.show('not this', 'rejected');
    expect(box.querySelector('strong')!.textContent).toBe('Rejected by its owner');
  });

  it('the notice goes with the script\'s context', () => {
    const { document, ctx, invalidate } = setUp();
    holdNotice(ctx).show('Waiting.', 'held');
    invalidate();
    expect(document.querySelector('countersign-hold-notice')).toBeNull();
  });
});
