// What the badge script reads of a post through the adapter, in linkedom: a person's post (no receipt,
// no marker element, not an assistant account) is never sent to the background; a post with a receipt
// goes with its text, the one thing the receipt is checked against, and a marked or assistant post
// without one goes without its text; the badge goes beside the author. Reads go in batches of 200.
// Node only (tests).
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { BATCH, postReader, readBatches } from '@/lib/content/badges/post-reader';

const POSTS = { container: 'article.post', author: '.author', body: '.post-body', receipt: 'data-receipt' };

function posts(html: string) {
  const { document } = parseHTML(`<html><body>${html}</body></html>`);
  return [...document.querySelectorAll('article.post')];
}

const read = postReader(POSTS, ['[data-assistant]', '.ai'], ['forum-helper']);

describe('postReader', () => {
  it('a person\'s post is not read at all: no text leaves the page without a receipt, a marker or an assistant author', () => {
    const [post] = posts('<article class="post"><header><span class="author">alice</span></header><div class="post-body">my own words</div></article>');
    expect(read(post!)).toBeNull();
  });

  it('a post with a receipt: the receipt, the trimmed author and the text go to the background; the badge goes beside the author', () => {
    const [post] = posts('<article class="post" data-receipt="rcpt.jws"><header><span class="author"> alice </span></header><div class="post-body">Rotate the keys.</div></article>');
    const r = read(post!)!;
    expect(r.item).toEqual({ receipt: 'rcpt.jws', author: 'alice', marked: false, content: 'Rotate the keys.' });
    expect([r.el, r.anchor, r.content]).toEqual([post, post!.querySelector('header'), 'Rotate the keys.']);
  });

  it('a marked post or an assistant account\'s post without a receipt: judged, but its text stays in the page', () => {
    const [marked, account] = posts(`
      <article class="post"><span class="author">alice</span><span class="ai"></span><div class="post-body">drafted</div></article>
      <article class="post"><span class="author">forum-helper</span><div class="post-body">hello</div></article>`);
    expect(read(marked!)!.item).toEqual({ receipt: null, author: 'alice', marked: true, content: '' });
    expect(read(account!)!.item).toEqual({ receipt: null, author: 'forum-helper', marked: false, content: '' });
    // The popup's excerpt still has the text.
    expect(read(account!)!.content).toBe('hello');
  });

  it('a post without an author element: no author, the badge goes on the post itself', () => {
    const [post] = posts('<article class="post" data-receipt="r"><div class="post-body">x</div></article>');
    const r = read(post!)!;
    expect([r.item.author, r.anchor]).toEqual(['', post]);
  });

  it('no marker selectors: nothing counts as marked (an empty selector is never searched)', () => {
    const [post] = posts('<article class="post"><span class="author">alice</span><span class="ai"></span></article>');
    expect(postReader(POSTS, [], [])(post!)).toBeNull();
  });
});

describe('readBatches', () => {
  it('the posts to judge, in order, in batches of at most 200; a person\'s posts are left out', () => {
    const html = Array.from({ length: 450 }, (_, i) => `<article class="post" ${i % 3 === 2 ? '' : `data-receipt="r${i}"`}><span class="author">a</span></article>`).join('');
    const all = posts(html);
    const batches = readBatches(all, read);
    expect(BATCH).toBe(200);
    expect(batches.map((b) => b.length)).toEqual([200, 100]);
    expect(batches.flat().map((r) => r.item.receipt)).toEqual(all.flatMap((el) => (el.hasAttribute('data-receipt') ? [el.getAttribute('data-receipt')] : [])));
  });

  it('nothing to judge: no batch (no message to the background)', () => {
    expect(readBatches(posts('<article class="post"><span class="author">alice</span></article>'), read)).toEqual([]);
  });
});
