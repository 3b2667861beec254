// Readers' AI-provenance badges on forum pages: finds posts through the adapter, asks the
// background for their verdicts, and draws a badge with the per-install secret mark in a closed
// shadow root. New posts are queued by a MutationObserver that does no DOM work itself; the queue
// is drained in batches on an animation frame. Content script only (isolated world); no React.
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import { messenger } from '../messaging/messenger';
import type { BadgeConfig, Reply, PageSummaryInput, PostsInput } from '../messaging/contract';
import type { Verdict } from '../extension/post-verdicts';
import { BadgeGuard } from './badge-guard';
import { markDrawing, markOf } from './mark';
import type { MarkDrawing } from './mark';

const BATCH = 200;
/**
 * Every synchronous stretch of a badge pass is a `performance.measure` of this name, its step in
 * `detail` (the bench sums them: the pass's main-thread time); a mark of the same name + `:drawn`
 * ends each pass that drew.
 */
const MEASURE = 'countersign:badges';

function timed<T>(step: string, work: () => T): T {
  const start = performance.now();
  try {
    return work();
  } finally {
    performance.measure(MEASURE, { start, detail: step });
  }
}

/**
 * Sends a message to the background and counts its synchronous cost: the messenger serialises the
 * message in its first microtask, so the measure ends one microtask later. Resolves once sent; the
 * answer comes in `answer`.
 */
async function timedSend<T>(send: () => Promise<T>): Promise<{ answer: Promise<T> }> {
  const start = performance.now();
  const answer = send();
  await null;
  performance.measure(MEASURE, { start, detail: 'send' });
  return { answer };
}

interface Read {
  el: Element;
  /** Where the badge goes: beside the author (found once, while reading). */
  anchor: Element;
  /** The post's text, for the popup's excerpt. */
  content: string;
  item: PostsInput['posts'][number];
}

const STYLE = `
:host { all: initial; display: inline-block; vertical-align: middle; margin-left: 6px; }
button { font: 600 12px/1.6 system-ui, sans-serif; border-radius: 10px; padding: 0 8px; cursor: pointer; border: 1px solid; }
.verified { background: #e8f5e9; color: #1a5e20; border-color: #1a7f37; }
.unverified-ai { background: #fff8e1; color: #6b4e00; border-color: #d4a72c; }
.invalid { background: #fdecea; color: #8c1d18; border-color: #b3261e; }
.details { display: none; position: absolute; z-index: 2147483647; margin-top: 4px; max-width: 340px; padding: 8px 10px;
  font: 12px/1.5 system-ui, sans-serif; color: #1b1f24; background: #fff; border: 1px solid #d0d7de; border-radius: 6px; box-shadow: 0 4px 12px rgba(0,0,0,.15); }
.details[data-open] { display: block; }
.details ul { margin: 4px 0 0; padding-left: 16px; }
.mark::before { content: attr(data-mark); }
.mark svg { vertical-align: -2px; }
`;

const LABELS: Record<Exclude<Verdict['state'], 'none'>, string> = {
  verified: 'AI · approved',
  'unverified-ai': 'AI · not approved',
  invalid: 'AI · receipt invalid',
};

function describe(v: Verdict): string {
  if (v.state === 'verified') return `Written by ${v.agent}, approved by ${v.approver} at ${new Date((v.time ?? 0) * 1000).toISOString()}.`;
  if (v.state === 'unverified-ai') return `Written by an assistant; ${v.reason}.`;
  return `Receipt invalid: ${v.reason}.`;
}

let sheet: CSSStyleSheet | null | undefined;

/**
 * Styles a badge's shadow root: one constructed style sheet shared by every badge (parsed once,
 * one rule set for the style engine), or a <style> of its own where a browser does not adopt
 * sheets from a content script.
 */
function style(root: ShadowRoot): void {
  if (sheet === undefined) {
    try {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
    } catch {
      sheet = null;
    }
  }
  if (sheet) {
    try {
      root.adoptedStyleSheets = [sheet];
      if (root.adoptedStyleSheets.length === 1) return;
    } catch {
      // fall through to a <style> element
    }
    sheet = null;
  }
  const el = document.createElement('style');
  el.textContent = STYLE;
  root.append(el);
}

function detailsPanel(verdict: Verdict, mark: MarkDrawing): HTMLElement {
  const details = document.createElement('div');
  details.className = 'details';
  details.setAttribute('role', 'dialog');
  details.setAttribute('aria-label', 'Countersign provenance');
  const summary = document.createElement('p');
  summary.textContent = describe(verdict);
  const list = document.createElement('ul');
  for (const check of [...verdict.checks, ...(verdict.traceId ? [`trace ${verdict.traceId}`] : [])]) {
    const li = document.createElement('li');
    li.textContent = check;
    list.append(li);
  }
  const markLine = document.createElement('p');
  markLine.append('Genuine Countersign badges show your mark: ', markOf(document, mark));
  details.append(summary, list, markLine);
  return details;
}

function drawBadge(anchor: Element, verdict: Verdict, mark: MarkDrawing): HTMLElement {
  let host = document.createElement('countersign-badge');
  // A page that defined this element name owns the element, and its ElementInternals would reach
  // even a closed shadow root: then a plain span, which no page can define, hosts the badge.
  if (host.matches(':defined')) {
    host = document.createElement('span');
    host.setAttribute('data-countersign-badge', '');
  }
  const root = host.attachShadow({ mode: 'closed' });
  style(root);
  const button = document.createElement('button');
  button.type = 'button';
  button.className = verdict.state;
  button.append(markOf(document, mark), ` ${LABELS[verdict.state as keyof typeof LABELS]}`);
  button.setAttribute('aria-expanded', 'false');
  // The details panel is built on the first click: most badges are never opened, and a page of
  // 2,000 posts would otherwise build ten more elements per badge up front.
  let details: HTMLElement | null = null;
  button.addEventListener('click', () => {
    details ??= root.appendChild(detailsPanel(verdict, mark));
    const open = !details.hasAttribute('data-open');
    details.toggleAttribute('data-open', open);
    button.setAttribute('aria-expanded', String(open));
  });
  root.append(button);
  anchor.append(host);
  return host;
}

export async function startBadges(ctx: ContentScriptContext): Promise<void> {
  const answer = (await messenger.sendMessage('cs-bg:badge-config', {}).catch(() => null)) as Reply<BadgeConfig> | null;
  if (!answer?.ok || !answer.value.posts) return;
  const config = answer.value;
  const posts = config.posts!;
  const mark = markDrawing(document, config.mark);
  const seen = new WeakSet<Element>();
  // Badges the page moved, or whose post's text it changed, come down and their posts are checked again.
  const guard = new BadgeGuard(posts);
  let touched = new Set<Node>();
  /** The badge hosts this script drew. */
  const ours = new WeakSet<Node>();
  const summary: PageSummaryInput['posts'] = [];
  let queue: Node[] = [document.body];
  let scheduled = false;
  let reported = false;

  function collect(): Element[] {
    const found: Element[] = [];
    for (const node of touched) {
      const post = guard.check(node);
      if (post) {
        seen.delete(post);
        queue.push(post);
      }
    }
    touched = new Set();
    for (const node of queue) {
      // Our own badges arrive here too (they are added nodes): nothing to find in them. Only the
      // hosts we made are skipped, never an element by its name, which a page could give a post.
      if (!(node instanceof Element) || ours.has(node)) continue;
      if (node.matches(posts.container) && !seen.has(node)) found.push(node);
      for (const el of node.querySelectorAll(posts.container)) if (!seen.has(el)) found.push(el);
    }
    queue = [];
    for (const el of found) seen.add(el);
    return found;
  }

  const markers = config.markerSelectors.join(',');
  const assistants = new Set(config.assistantAccounts);

  /**
   * What the background needs to judge a post, or null for a person's post (no receipt, no marker,
   * not an assistant account), whose verdict is "no badge" without asking. The text goes along only
   * with a receipt, the one thing it is checked against.
   */
  function read(el: Element): Read | null {
    const receipt = el.getAttribute(posts.receipt);
    const authorEl = el.querySelector(posts.author);
    const author = authorEl?.textContent?.trim() ?? '';
    const marked = markers !== '' && el.querySelector(markers) !== null;
    if (!receipt && !marked && !assistants.has(author)) return null;
    const content = el.querySelector(posts.body)?.textContent ?? '';
    return { el, anchor: authorEl?.parentElement ?? el, content, item: { receipt, author, marked, content: receipt ? content : '' } };
  }

  async function drain(): Promise<void> {
    scheduled = false;
    const found = timed('collect', collect);
    const batches = timed('read', () => {
      const all: Read[][] = [];
      for (const el of found) {
        const r = read(el);
        if (!r) continue;
        const last = all.at(-1);
        if (last && last.length < BATCH) last.push(r);
        else all.push([r]);
      }
      return all;
    });
    // Every batch goes out at once; each is drawn as its answer comes, in order.
    const answers: Array<Promise<Reply<Verdict[]> | null>> = [];
    for (const batch of batches) {
      const { answer } = await timedSend(() => messenger.sendMessage('cs-bg:verify-posts', { posts: batch.map((r) => r.item) }));
      answers.push(answer.catch(() => null));
    }
    for (const [b, batch] of batches.entries()) {
      const result = await answers[b];
      if (!result?.ok || ctx.isInvalid) return;
      timed('draw', () =>
        result.value.forEach((verdict, k) => {
          if (verdict.state === 'none') return;
          const { el, anchor, content, item } = batch[k]!;
          const host = drawBadge(anchor, verdict, mark);
          ours.add(host);
          guard.track(host, el, anchor, content);
          summary.push({
            state: verdict.state,
            author: item.author,
            ...(verdict.agent ? { agent: verdict.agent } : {}),
            ...(verdict.approver ? { approver: verdict.approver } : {}),
            excerpt: content.replace(/\s+/g, ' ').trim().slice(0, 120),
          });
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
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) queue.push(n);
      touched.add(r.target);
    }
    if (queue.length || touched.size) schedule();
  });
  observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  ctx.onInvalidated(() => observer.disconnect());
  schedule();
}
