// What the badge script reads of one post through the adapter: whether it may be an assistant's (a
// receipt, a marker element, an assistant account), whether its receipts are to be looked up on the
// verifier by its text's digest, where its badge goes, its text; and the reads in batches the
// background takes at once. Pure over a passed-in element; runtime-neutral.
import type { BadgeConfig, PostsInput } from '../../messaging/contract';

export type PostSelectors = NonNullable<BadgeConfig['posts']>;

export interface Read {
  el: Element;
  /** Where the badge goes: beside the author (found once, while reading), else at the end of the post. */
  anchor: Element;
  /** The post's text: for the popup's excerpt, and the digest a looked-up receipt must bind. */
  content: string;
  item: PostsInput['posts'][number];
  /** No receipt in the page: its receipts are looked up on the verifier by the digest of `content`. */
  lookup: boolean;
}

/** The most posts one verify-posts or lookup-receipts message carries. */
export const BATCH = 200;

/** A post's body: the element the selector names inside the post, or the post itself when it is the body (a wiki page's parser output). */
export function bodyOf(post: Element, selector: string): Element | null {
  return post.matches(selector) ? post : post.querySelector(selector);
}

/**
 * How posts are read on a page with these selectors, marker elements and assistant accounts: what the
 * background needs to judge a post, or null for a person's post (no receipt, no marker, not an
 * assistant account) on a tool that renders receipts, whose verdict is "no badge" without asking. The
 * text goes along only with a receipt, the one thing it is checked against.
 *
 * A post without a receipt is looked up by its text's digest: every post, where the tool renders no
 * receipts (the adapter names no attribute); where it does, only a post that looks like an assistant's
 * (before it is called not approved), so that a person's post does not leave the page even as a digest.
 */
export function postReader(posts: PostSelectors, markerSelectors: readonly string[], assistantAccounts: readonly string[]): (el: Element) => Read | null {
  const markers = markerSelectors.join(',');
  const assistants = new Set(assistantAccounts);
  return (el) => {
    const receipt = posts.receipt ? el.getAttribute(posts.receipt) : null;
    const authorEl = posts.author ? el.querySelector(posts.author) : null;
    const author = authorEl?.textContent?.trim() ?? '';
    const marked = markers !== '' && el.querySelector(markers) !== null;
    const lookup = !receipt && (!posts.receipt || marked || assistants.has(author));
    if (!receipt && !lookup) return null;
    const content = bodyOf(el, posts.body)?.textContent ?? '';
    return { el, anchor: authorEl?.parentElement ?? el, content, item: { receipt, author, marked, content: receipt ? content : '' }, lookup };
  };
}

/**
 * The posts that need a verdict, read in order: those with a receipt cut into batches of at most
 * BATCH (verify-posts), and those to look up (their batches are the lookup's, after hashing).
 */
export function readBatches(found: Iterable<Element>, read: (el: Element) => Read | null): { batches: Read[][]; lookups: Read[] } {
  const batches: Read[][] = [];
  const lookups: Read[] = [];
  for (const el of found) {
    const r = read(el);
    if (!r) continue;
    if (r.lookup) {
      lookups.push(r);
      continue;
    }
    const last = batches.at(-1);
    if (last && last.length < BATCH) last.push(r);
    else batches.push([r]);
  }
  return { batches, lookups };
}
