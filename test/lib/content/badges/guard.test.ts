// BadgeGuard: a drawn badge stays only where it was drawn and only while its post's text is the text it
// was judged on (issue 9: a page reusing a genuine "verified" badge). The browser-level attack is in
// test/security/browser/fake-badges.test.ts.
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { badgeGuard } from '@/lib/content/badges/guard';

function page() {
  const { document, Element } = parseHTML(`<html><body>
    <article class="post" id="a"><header><span class="author">assistant</span></header><div class="post-body">approved text</div></article>
    <article class="post" id="b"><header><span class="author">assistant</span></header><div class="post-body">other text</div></article>
  </body></html>`);
  // The guard runs in a content script, where Element is a global: give it linkedom's.
  Object.assign(globalThis, { Element });
  const guard = badgeGuard({ container: 'article.post', body: '.post-body' });
  const post = document.getElementById('a')!;
  const anchor = post.querySelector('header')!;
  const host = document.createElement('countersign-badge');
  anchor.append(host);
  guard.track(host, post, anchor, 'approved text');
  return { document, guard, post, anchor, host };
}

describe('BadgeGuard', () => {
  it('leaves a badge alone while it sits where it was drawn and its post is unchanged', () => {
    const { guard, anchor, host, post } = page();
    expect(guard.check(anchor)).toBeNull();
    expect(guard.check(host)).toBeNull();
    expect(guard.check(post.querySelector('.post-body')!)).toBeNull();
    expect(host.isConnected).toBe(true);
  });

  it('a badge moved to another post comes down, and its own post is to be checked again', () => {
    const { document, guard, anchor, host, post } = page();
    document.querySelector('#b header')!.append(host);
    expect(guard.check(anchor)).toBe(post);
    expect(host.isConnected).toBe(false);
  });

  it('a badge beside a post whose text was rewritten comes down, and the post is to be checked again', () => {
    const { guard, host, post } = page();
    const body = post.querySelector('.post-body')!;
    body.textContent = 'rewritten text';
    expect(guard.check(body)).toBe(post);
    expect(host.isConnected).toBe(false);
    // Once down, later changes to the post are for the next check, not this badge.
    expect(guard.check(body)).toBeNull();
  });

  it('changes to posts without a badge are not its business', () => {
    const { document, guard } = page();
    expect(guard.check(document.querySelector('#b .post-body')!)).toBeNull();
  });

  it('a post that is its own body (a wiki page): the badge at its end does not count as its text; a rewrite of the page takes it down', () => {
    const { document, Element } = parseHTML('<html><body><div class="mw-parser-output"><p>approved text</p></div></body></html>');
    Object.assign(globalThis, { Element });
    const guard = badgeGuard({ container: '.mw-parser-output', body: '.mw-parser-output' });
    const post = document.querySelector('.mw-parser-output')!;
    const host = document.createElement('countersign-badge');
    host.attachShadow({ mode: 'closed' }).append('AI · approved');
    post.append(host);
    guard.track(host, post, post, 'approved text');
    expect(guard.check(post)).toBeNull();
    expect(host.isConnected).toBe(true);
    post.querySelector('p')!.textContent = 'rewritten text';
    expect(guard.check(post.querySelector('p')!)).toBe(post);
    expect(host.isConnected).toBe(false);
  });
});
