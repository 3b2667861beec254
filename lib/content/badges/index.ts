// Readers' AI-provenance badges on forum pages: finds posts through the adapter, asks the
// background for their verdicts (a post's receipt as the page renders it, or the receipts the
// verifier keeps for its text's digest), and draws a badge with the per-install secret mark in a
// closed shadow root. New posts are queued by a MutationObserver that does no DOM work itself; the
// queue is drained in batches on an animation frame. Content script only (isolated world); no React.
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import { messenger } from '../../messaging/messenger';
import type { BadgeConfig, Reply, PageSummaryInput, Verdict } from '../../messaging/contract';
import { drawBadge } from './badge-view';
import { receiptLookup } from './lookup';
import type { Judged } from './lookup';
import { markDrawing } from './mark';
import { postQueue } from './post-queue';
import { postReader, readBatches } from './post-reader';
import { MEASURE, timed, timedSend } from './timing';
import { summaryRow } from './verdicts';

export async function startBadges(ctx: ContentScriptContext): Promise<void> {
  const answer = (await messenger.sendMessage('cs-bg:badge-config', {}).catch(() => null)) as Reply<BadgeConfig> | null;
  if (!answer?.ok || !answer.value.posts) return;
  const config = answer.value;
  const posts = config.posts!;
  const mark = markDrawing(document, config.mark);
  const queue = postQueue(posts, document.body);
  const summary: PageSummaryInput['posts'] = [];
  const read = postReader(posts, config.markerSelectors, config.assistantAccounts);
  // Its answers are kept for this page load.
  const lookup = receiptLookup((items) => messenger.sendMessage('cs-bg:lookup-receipts', { posts: items }).catch(() => null));
  let scheduled = false;
  let reported = false;

  async function drain(): Promise<void> {
    scheduled = false;
    const found = timed('collect', () => queue.collect());
    const { batches, lookups } = timed('read', () => readBatches(found, read));
    // Every batch goes out at once; each is drawn as its answer comes, in order.
    const judged: Judged[] = [];
    for (const batch of batches) {
      const { answer } = await timedSend(() => messenger.sendMessage('cs-bg:verify-posts', { posts: batch.map((r) => r.item) }));
      judged.push({ reads: batch, verdicts: answer.then((reply: Reply<Verdict[]>) => (reply.ok ? reply.value : []), () => []) });
    }
    judged.push(...(await lookup(lookups)));
    for (const { reads, verdicts } of judged) {
      const values = await verdicts;
      if (ctx.isInvalid) return;
      timed('draw', () =>
        values.forEach((verdict, k) => {
          const r = reads[k];
          if (!verdict || verdict.state === 'none' || !r) return;
          queue.drawn(drawBadge(document, r.anchor, verdict, mark), r.el, r.anchor, r.content);
          summary.push(summaryRow(verdict, r.item.author, r.content));
        }),
      );
    }
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
