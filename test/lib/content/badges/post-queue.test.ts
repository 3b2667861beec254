// Which posts a badge pass reads, over a linkedom page: every post under the root once; then only the
// posts in nodes the page added; never inside the badges this script drew — yet an element the page
// gives our badge's name is no badge of ours (issue 9); and a post whose genuine badge the page moved
// or whose text it rewrote is read again. The observer's records are only queued (no DOM work in the
// callback). Node only (tests).
import { parseHTML } from 'linkedom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { postQueue } from '@/lib/content/badges/post-queue';

const POSTS = { container: 'article.post', body: '.post-body' };
const post = (id: string, text = 'text') => `<article class="post" id="${id}"><header><span class="author">a</span></header><div class="post-body">${text}</div></article>`;

function page(html: string) {
  const window = parseHTML(`<html><body>${html}</body></html>`);
  // The queue runs in a content script, where Element is a global: give it linkedom's.
  vi.stubGlobal('Element', window.Element);
  const { document } = window;
  const queue = postQueue(POSTS, document.body);
  const ids = (els: Element[]) => els.map((el) => el.id);
  /** A mutation record as the observer hands it over. */
  const rec = (target: Node, added: Node[] = []) => ({ target, addedNodes: added as unknown as NodeList });
  return { document, queue, ids, rec };
}

afterEach(() => vi.unstubAllGlobals());

describe('postQueue', () => {
  it('the first pass reads every post under the root, each once; a second pass without changes reads none', () => {
    const { queue, ids } = page(`${post('a')}<section>${post('b')}</section>`);
    expect(ids(queue.collect())).toEqual(['a', 'b']);
    expect(queue.collect()).toEqual([]);
  });

  it('recording an observer\'s records touches no DOM and says whether a pass is due', () => {
    const { queue, rec, document } = page('');
    queue.collect();
    expect(queue.record([])).toBe(false);
    const querySelectorAll = vi.spyOn(document.body, 'querySelectorAll');
    expect(queue.record([rec(document.body)])).toBe(true);
    expect(querySelectorAll).not.toHaveBeenCalled();
  });

  it('posts the page adds later are read in the next pass; posts already read are not read again', () => {
    const { queue, ids, document, rec } = page(post('a'));
    queue.collect();
    const holder = document.createElement('div');
    holder.innerHTML = post('c') + post('d');
    document.body.append(holder);
    const a = document.getElementById('a')!;
    queue.record([rec(document.body, [holder, a])]);
    expect(ids(queue.collect())).toEqual(['c', 'd']);
  });

  it('nothing is read inside a badge this script drew, even one shaped like a post', () => {
    const { queue, document, rec } = page(post('a'));
    queue.collect();
    const a = document.getElementById('a')!;
    const host = document.createElement('countersign-badge');
    host.innerHTML = post('inside');
    a.querySelector('header')!.append(host);
    queue.drawn(host, a, a.querySelector('header')!, 'text');
    queue.record([rec(a.querySelector('header')!, [host])]);
    expect(queue.collect()).toEqual([]);
  });

  it('an element the page names like our badge is no badge of ours: the post in it is read', () => {
    const { queue, ids, document, rec } = page('');
    queue.collect();
    const fake = document.createElement('countersign-badge');
    fake.innerHTML = post('hidden');
    document.body.append(fake);
    queue.record([rec(document.body, [fake])]);
    expect(ids(queue.collect())).toEqual(['hidden']);
  });

  it('a post whose badge the page moved, or whose text it rewrote, loses the badge and is read again', () => {
    const { queue, ids, document, rec } = page(post('a', 'judged') + post('b'));
    queue.collect();
    const [a, b] = ['a', 'b'].map((id) => document.getElementById(id)!);
    const host = document.createElement('countersign-badge');
    a!.querySelector('header')!.append(host);
    queue.drawn(host, a!, a!.querySelector('header')!, 'judged');
    // Moved to the other post: the badge comes down, post a is read again.
    b!.querySelector('header')!.append(host);
    queue.record([rec(a!.querySelector('header')!)]);
    expect(ids(queue.collect())).toEqual(['a']);
    expect(host.isConnected).toBe(false);
    // Drawn again, then the text rewritten.
    const again = document.createElement('countersign-badge');
    a!.querySelector('header')!.append(again);
    queue.drawn(again, a!, a!.querySelector('header')!, 'judged');
    a!.querySelector('.post-body')!.textContent = 'rewritten';
    queue.record([rec(a!.querySelector('.post-body')!)]);
    expect(ids(queue.collect())).toEqual(['a']);
    expect(again.isConnected).toBe(false);
  });

  it('our own insertions do not make the next pass re-read their posts; a badge taken down and put back by the page comes down again', () => {
    const { queue, document, rec } = page(post('a') + post('b'));
    queue.collect();
    const [a, b] = ['a', 'b'].map((id) => document.getElementById(id)!);
    const header = a!.querySelector('header')!;
    const host = document.createElement('countersign-badge');
    header.append(host);
    queue.drawn(host, a!, header, 'text');
    const body = a!.querySelector('.post-body')!;
    const textContent = vi.spyOn(body, 'textContent', 'get');
    // The observer's record of our insertion: only the host is looked at (where it is), not the post's text.
    queue.record([{ target: header, addedNodes: [host] as unknown as NodeList, removedNodes: [] as unknown as NodeList }]);
    expect(queue.collect()).toEqual([]);
    expect(textContent).not.toHaveBeenCalled();
    expect(host.isConnected).toBe(true);
    // The page removes it (the post is read again), then puts it on another post: it comes down.
    host.remove();
    queue.record([rec(header)]);
    expect(queue.collect().map((el) => el.id)).toEqual(['a']);
    b!.querySelector('header')!.append(host);
    queue.record([{ target: b!.querySelector('header')!, addedNodes: [host] as unknown as NodeList, removedNodes: [] as unknown as NodeList }]);
    expect(queue.collect()).toEqual([]);
    expect(host.isConnected).toBe(false);
  });
});

