// Readers' AI-provenance badges on forum pages: finds posts through the adapter, asks the
// background for their verdicts (a post's receipt as the page renders it, or the receipts the
// verifier keeps for its text's digest), and draws a badge with the per-install secret mark in a
// closed shadow root. New posts are queued by a MutationObserver that does no DOM work itself; the
// queue is read in batches on an animation frame, and the badges are written on a later one, all
// of a pass's answers in one write (frame-writer.ts): the page is laid out once for them. Content
// script only (isolated world); no React.
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import { messenger } from '../../messaging/messenger';
import type { BadgeConfig, Reply, PageSummaryInput, Verdict } from '../../messaging/contract';
import { makeBadge } from './badge-view';
import { frameWriter } from './frame-writer';
import { receiptLookup } from './lookup';
import { markDrawing } from './mark';
import { postQueue } from './post-queue';
import { postReader, readBatches } from './post-reader';
import type { Read } from './post-reader';
import { MEASURE, timed, timedSend } from './timing';
import { summaryRow } from './verdicts';

interface ToDraw {
  read: Read;
  verdict: Verdict;
  /** Where the post came in the page's passes: a write draws (and lists for the popup) in page order. */
  at: number;
}

export async function startBadges(ctx: ContentScriptContext): Promise<void> {
  const answer = (await messenger.sendMessage('cs-bg:badge-config', {}).catch(() => null)) as Reply<BadgeConfig> | null;
  if (!answer?.ok || !answer.value.posts) return;
  const config = answer.value;
  const posts = config.posts!;
  const mark = markDrawing(config.mark);
  const queue = postQueue(posts, document.body);
  const summary: PageSummaryInput['posts'] = [];
  const read = postReader(posts, config.markerSelectors, config.assistantAccounts);
  // Its answers are kept for this page load.
  const lookup = receiptLookup((items) => messenger.sendMessage('cs-bg:lookup-receipts', { posts: items }).catch(() => null));
  let scheduled = false;
  let reported = false;
  /** Each post read, by the order it was found in. */
  const order = new WeakMap<Element, number>();
  let seen = 0;

  // One write per frame: every badge built first (detached, no style or layout work), then all put
  // in the page together. Our own insertions come back to the observer and are dropped there.
  const writer = frameWriter<ToDraw>({
    frame: (cb) => ctx.requestAnimationFrame(cb),
    timer: (cb, ms) => setTimeout(() => ctx.isInvalid || cb(), ms),
    write(items) {
      if (ctx.isInvalid) return;
      timed('draw', () => {
        items.sort((a, b) => a.at - b.at);
        const hosts = items.map(({ verdict }) => makeBadge(document, verdict, mark));
        items.forEach(({ read: r, verdict }, k) => {
          const host = hosts[k]!;
          r.anchor.append(host);
          queue.drawn(host, r.el, r.anchor, r.content);
          summary.push(summaryRow(verdict, r.item.author, r.content));
        });
      });
    },
  });
  const toDraw = (reads: Read[], verdicts: Array<Verdict | null>): ToDraw[] => {
    const items: ToDraw[] = [];
    verdicts.forEach((verdict, k) => {
      const r = reads[k];
      if (verdict && verdict.state !== 'none' && r) items.push({ read: r, verdict, at: order.get(r.el) ?? 0 });
    });
    return items;
  };

  async function drain(): Promise<void> {
    scheduled = false;
    const found = timed('collect', () => queue.collect());
    for (const el of found) order.set(el, seen++);
    const { batches, lookups } = timed('read', () => readBatches(found, read));
    // Every batch goes out at once; the answers are drawn together (or as they come, if one is slow).
    // The writer waits for each batch's answer and, until the lookup's groups are known, for them.
    writer.expect(batches.length + 1);
    for (const batch of batches) {
      const { answer } = await timedSend(() => messenger.sendMessage('cs-bg:verify-posts', { posts: batch.map((r) => r.item) }));
      void answer.then((reply: Reply<Verdict[]>) => (reply.ok ? reply.value : []), () => []).then((values) => writer.add(toDraw(batch, values)));
    }
    const looked = await lookup(lookups);
    writer.expect(looked.length);
    for (const { reads, verdicts } of looked) void verdicts.then((values) => writer.add(toDraw(reads, values)), () => writer.add([]));
    writer.add([]);
    await writer.idle();
    if (ctx.isInvalid) return;
    if (found.length) performance.mark(`${MEASURE}:drawn`, { detail: { posts: found.length } });
    // The popup's list changes only when posts were found (and is sent once for a page without any).
    if (!found.length && reported) return;
    reported = true;
    const { answer } = await timedSend(() => messenger.sendMessage('cs-bg:page-posts', { posts: summary.slice(-5000) }));
    await answer.catch(() => undefined);
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    ctx.requestAnimationFrame(() => void drain());
  }

  // The callback only queues: posts are found and checked later, in batches (uBlock Origin's rule).
  const observer = new MutationObserver((records) => queue.record(records) && schedule());
  observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  ctx.onInvalidated(() => observer.disconnect());
  schedule();
}
