// One genuine badge, rendered with linkedom: a closed shadow root at the end of the anchor with the
// verdict's label and the install's mark, so the page reads neither; hosted by a plain span when the
// page defined our element name (its ElementInternals would reach even a closed root, issue 9); the
// details panel built on the first click only. linkedom has no :defined and no closed-root access:
// the page's defined names are listed, and attachShadow is wrapped to reach the root. Node only (tests).
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { drawBadge } from '@/lib/content/badges/badge-view';
import { markDrawing } from '@/lib/content/badges/mark';
import type { Verdict } from '@/lib/messaging/contract';

function page(defined: string[] = []) {
  const { document, HTMLElement, Event } = parseHTML('<html><body><article><header><span class="author">forum-helper</span></header></article></body></html>');
  const roots = new Map<Element, ShadowRoot>();
  const attach = HTMLElement.prototype.attachShadow;
  HTMLElement.prototype.attachShadow = function (this: HTMLElement, init: ShadowRootInit) {
    const root = attach.call(this, init) as ShadowRoot;
    roots.set(this, root);
    return root;
  };
  const create = document.createElement.bind(document);
  document.createElement = ((name: string) => {
    const el = create(name);
    const matches = el.matches.bind(el);
    el.matches = (selector: string) => (selector === ':defined' ? defined.includes(name) : matches(selector));
    return el;
  }) as typeof document.createElement;
  const doc = document as unknown as Document;
  return { doc, anchor: doc.querySelector('header')!, roots, click: (el: Element) => el.dispatchEvent(new Event('click')) };
}

const verified: Verdict = { state: 'verified', agent: 'agent:forum-helper', approver: 'alice', time: 1_700_000_000, checks: ['signature verifies', 'digest matches'], traceId: 'trc-1' };

describe('drawBadge', () => {
  it('a closed shadow root at the end of the anchor: the label and the mark inside, nothing for the page to read', () => {
    const { doc, anchor, roots } = page();
    const host = drawBadge(doc, anchor, verified, markDrawing({ kind: 'text', text: 'ZQ7' }));
    expect(host.localName).toBe('countersign-badge');
    expect(anchor.lastElementChild).toBe(host);
    expect([host.shadowRoot, host.textContent]).toEqual([null, '']);
    const button = roots.get(host)!.querySelector('button')!;
    expect([button.className, button.textContent, button.querySelector('.mark')!.getAttribute('data-mark'), button.getAttribute('aria-expanded')]).toEqual(['verified', ' AI · approved', 'ZQ7', 'false']);
  });

  it('a page that defined countersign-badge gets no such element: a plain span hosts the badge', () => {
    const { doc, anchor } = page(['countersign-badge']);
    const host = drawBadge(doc, anchor, { state: 'invalid', reason: 'bad signature', checks: [] }, markDrawing({ kind: 'text', text: 'm' }));
    expect([host.localName, host.hasAttribute('data-countersign-badge')]).toEqual(['span', true]);
  });

  it('styled by a <style> of its own where constructed style sheets are not there', () => {
    const { doc, anchor, roots } = page();
    const host = drawBadge(doc, anchor, verified, markDrawing({ kind: 'text', text: 'm' }));
    expect(roots.get(host)!.querySelector('style')!.textContent).toContain('.verified');
  });

  it('the details panel is built on the first click only, then opens and closes', () => {
    const { doc, anchor, roots, click } = page();
    const host = drawBadge(doc, anchor, verified, markDrawing({ kind: 'pattern', seed: '5a3cf0e19b' }));
    const root = roots.get(host)!;
    expect(root.querySelector('.details')).toBeNull();
    const button = root.querySelector('button')!;
    click(button);
    const details = root.querySelector('.details')!;
    expect([details.hasAttribute('data-open'), button.getAttribute('aria-expanded')]).toEqual([true, 'true']);
    expect([...details.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['signature verifies', 'digest matches', 'trace trc-1']);
    expect(details.querySelector('p')!.textContent).toBe('Written by agent:forum-helper, approved by alice at 2023-11-14T22:13:20.000Z.');
    // The mark is shown again in the panel, drawn by the sheet's rules: no text of it anywhere.
    expect(details.querySelector('.mark.pattern')!.childNodes.length).toBe(0);
    expect(root.querySelector('style')!.textContent).toContain('.mark.pattern {');
    click(button);
    expect([details.hasAttribute('data-open'), button.getAttribute('aria-expanded'), root.querySelectorAll('.details').length]).toEqual([false, 'false', 1]);
  });
});
