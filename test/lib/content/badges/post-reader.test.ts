// What the badge script reads of a post through the adapter, in linkedom: on a tool that renders
// receipts a person's post (no receipt, no marker element, not an assistant account) is never sent to
// the background, not even as a digest; a post with a receipt goes with its text, the one thing the
// receipt is checked against, and a marked or assistant post without one is looked up by its text's
// digest; on a tool that renders none every post is looked up; the badge goes beside the author, or
// at the end of a post that names none; the body may be the post itself (a wiki page). Posts with a
// receipt go in batches of 200. Node only (tests).
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

  it('a marked post or an assistant account\'s post without a receipt: looked up by its text\'s digest, its text not in the message', () => {
    const [marked, account] = posts(`
      <article class="post"><span class="author">alice</span><span class="ai"></span><div class="post-body">drafted</div></article>
      <article class="post"><span class="author">forum-helper</span><div class="post-body">hello</div></article>`);
    expect(read(marked!)!.item).toEqual({ receipt: null, author: 'alice', marked: true, content: '' });
    expect(read(account!)!.item).toEqual({ receipt: null, author: 'forum-helper', marked: false, content: '' });
    expect([read(marked!)!.lookup, read(account!)!.lookup]).toEqual([true, true]);
    // The digest is taken of the text, and the popup's excerpt still has it.
    expect(read(account!)!.content).toBe('hello');
  });

  it('a post with a receipt in the page is not looked up: the rendered receipt is the one checked', () => {
    const [post] = posts('<article class="post" data-receipt="rcpt.jws"><span class="author">forum-helper</span><div class="post-body">x</div></article>');
    expect(read(post!)!.lookup).toBe(false);
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

describe('a tool that renders no receipts (the adapter names no receipt attribute)', () => {
  const WIKI = { container: '.mw-parser-output', body: '.mw-parser-output' };
  const wikiPage = (html: string) => {
    const { document } = parseHTML(`<html><body><h1 id="firstHeading">Runbook</h1><div class="mw-parser-output">${html}</div></body></html>`);
    return document.querySelector('.mw-parser-output')!;
  };

  it('every post is looked up, a person\'s too: there is no other way to find its receipt', () => {
    const page = wikiPage('<p>Rotate   the keys.</p>\n<p>Then tell the team.</p>');
    const r = postReader(WIKI, [], [])(page)!;
    expect(r.lookup).toBe(true);
    expect(r.item).toEqual({ receipt: null, author: '', marked: false, content: '' });
  });

  it('the body may be the post element itself (the whole parser output), and with no author the badge goes at the end of the post', () => {
    const page = wikiPage('<p>Rotate   the keys.</p>\n<p>Then tell the team.</p>');
    const r = postReader(WIKI, [], [])(page)!;
    expect(r.content).toBe('Rotate   the keys.\nThen tell the team.');
    expect(r.anchor).toBe(page);
  });

  it('a marker inside the page still counts (an unverified AI badge when no receipt is found)', () => {
    const page = wikiPage('<p class="ai">drafted</p>');
    expect(postReader(WIKI, ['.ai'], [])(page)!.item.marked).toBe(true);
  });
});

describe('readBatches', () => {
  it('the posts with a receipt, in order, in batches of at most 200; a person\'s posts are left out', () => {
    const html = Array.from({ length: 450 }, (_, i) => `<article class="post" ${i % 3 === 2 ? '' : `data-receipt="r${i}"`}><span class="author">a</span></article>`).join('');
    const all = posts(html);
    const { batches, lookups } = readBatches(all, read);
    expect(BATCH).toBe(200);
    expect(batches.map((b) => b.length)).toEqual([200, 100]);
    expect(batches.flat().map((r) => r.item.receipt)).toEqual(all.flatMap((el) => (el.hasAttribute('data-receipt') ? [el.getAttribute('data-receipt')] : [])));
    expect(lookups).toEqual([]);
  });

  it('the posts to look up come apart from the batches, in order', () => {
    const all = posts(`
      <article class="post" data-receipt="r1"><span class="author">forum-helper</span></article>
      <article class="post"><span class="author">forum-helper</span><div class="post-body">one</div></article>
      <article class="post"><span class="author">alice</span><div class="post-body">mine</div></article>
      <article class="post"><span class="author">alice</span><i class="ai"></i><div class="post-body">two</div></article>`);
    const { batches, lookups } = readBatches(all, read);
    expect(batches.map((b) => b.map((r) => r.item.receipt))).toEqual([['r1']]);
    expect(lookups.map((r) => r.content)).toEqual(['one', 'two']);
  });

  it('nothing to judge: no batch and no lookup (no message to the background)', () => {
    expect(readBatches(posts('<article class="post"><span class="author">alice</span></article>'), read)).toEqual({ batches: [], lookups: [] });
  });
});
