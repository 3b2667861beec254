// Verdicts for posts the page shows no receipt for, from the receipts the verifier keeps for their
// text: each post's `cdg` computed here (the protocol's contentDigest of the rendered text, with Web
// Crypto), the background asked once per batch of new digests, and every answer kept for this page
// load — a post read again (re-rendered, its badge moved) costs no second question, and a verifier
// that did not answer is not asked again from this page. Isolated content script only; no zod (the
// background parses the message).
import { contentDigest } from '../../protocol/content';
import type { LookupInput, Reply, Verdict } from '../../messaging/contract';
import { BATCH } from './post-reader';
import type { Read } from './post-reader';
import { timed, timedSend } from './timing';

type Item = LookupInput['posts'][number];

/** Sends one lookup-receipts message and gives its answer, or null when it could not be sent. */
export type AskLookup = (posts: Item[]) => Promise<Reply<Verdict[]> | null>;

/** Some of a pass's reads and their verdicts (null: no badge), which come together. */
export interface Judged {
  reads: Read[];
  verdicts: Promise<Array<Verdict | null>>;
}

/** The verdict depends on the text's digest, and on the author and marker for a post with no receipt found. */
const keyOf = (item: Item) => `${item.cdg}\u0000${item.author}\u0000${item.marked}`;

/**
 * A page's lookup: for a pass's reads (all with `lookup`), the groups to draw in order — one per
 * message sent (at most BATCH new digests each), then the reads answered before or by another read
 * of this pass. Every message is sent before this resolves.
 */
export function receiptLookup(ask: AskLookup): (reads: Read[]) => Promise<Judged[]> {
  const answers = new Map<string, Promise<Verdict | null>>();
  return async (reads) => {
    if (!reads.length) return [];
    const digests = await Promise.all(timed('digest', () => reads.map((r) => contentDigest(r.content))));
    const batches: Array<{ reads: Read[]; items: Item[]; settle: Array<(v: Verdict | null) => void> }> = [];
    const known: Read[] = [];
    const knownKeys: string[] = [];
    reads.forEach((read, k) => {
      const item: Item = { cdg: digests[k]!, author: read.item.author, marked: read.item.marked };
      const key = keyOf(item);
      if (answers.has(key)) {
        known.push(read);
        knownKeys.push(key);
        return;
      }
      const last = batches.at(-1);
      const batch = last && last.items.length < BATCH ? last : { reads: [], items: [], settle: [] };
      if (batch !== last) batches.push(batch);
      batch.reads.push(read);
      batch.items.push(item);
      answers.set(key, new Promise((resolve) => batch.settle.push(resolve)));
    });
    const judged: Judged[] = [];
    for (const batch of batches) {
      const { answer } = await timedSend(() => ask(batch.items));
      const verdicts = answer.then(
        (reply) => batch.settle.map((settle, i) => {
          const verdict = reply?.ok ? (reply.value[i] ?? null) : null;
          settle(verdict);
          return verdict;
        }),
        () => batch.settle.map((settle) => (settle(null), null)),
      );
      judged.push({ reads: batch.reads, verdicts });
    }
    if (known.length) judged.push({ reads: known, verdicts: Promise.all(knownKeys.map((key) => answers.get(key)!)) });
    return judged;
  };
}
