// What the badge script reads of one post through the adapter: whether it may be an assistant's (a
// receipt, a marker element, an assistant account), where its badge goes, its text; and the reads
// in batches the background takes at once. Pure over a passed-in element; runtime-neutral.
import type { BadgeConfig, PostsInput } from '../../messaging/contract';

export type PostSelectors = NonNullable<BadgeConfig['posts']>;

export interface Read {
  el: Element;
  /** Where the badge goes: beside the author (found once, while reading). */
  anchor: Element;
  /** The post's text, for the popup's excerpt. */
  content: string;
  item: PostsInput['posts'][number];
}

/** The most posts one verify-posts message carries. */
export const BATCH = 200;

/**
 * How posts are read on a page with these selectors, marker elements and assistant accounts: what the
 * background needs to judge a post, or null for a person's post (no receipt, no marker, not an
 * assistant account), whose verdict is "no badge" without asking. The text goes along only with a
 * receipt, the one thing it is checked against.
 */
export function postReader(posts: PostSelectors, markerSelectors: readonly string[], assistantAccounts: readonly string[]): (el: Element) => Read | null {
  const markers = markerSelectors.join(',');
  const assistants = new Set(assistantAccounts);
  return (el) => {
    const receipt = el.getAttribute(posts.receipt);
    const authorEl = el.querySelector(posts.author);
    const author = authorEl?.textContent?.trim() ?? '';
    const marked = markers !== '' && el.querySelector(markers) !== null;
    if (!receipt && !marked && !assistants.has(author)) return null;
    const content = el.querySelector(posts.body)?.textContent ?? '';
    return { el, anchor: authorEl?.parentElement ?? el, content, item: { receipt, author, marked, content: receipt ? content : '' } };
  };
}

/** The posts that need a verdict, read in order and cut into batches of at most BATCH. */
export function readBatches(found: Iterable<Element>, read: (el: Element) => Read | null): Read[][] {
  const all: Read[][] = [];
  for (const el of found) {
    const r = read(el);
    if (!r) continue;
    const last = all.at(-1);
    if (last && last.length < BATCH) last.push(r);
    else all.push([r]);
  }
  return all;
}
