// Readers' AI-provenance badges on forum pages: finds posts through the adapter, asks the
// background for their verdicts, and draws a badge with the per-install secret mark in a closed
// shadow root. New posts are queued by a MutationObserver that does no DOM work itself; the queue
// is drained in batches on an animation frame. Content script only (isolated world); no React.
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import { messenger } from '../extension/messenger';
import type { BadgeConfig, Outcome, PageSummaryInput } from '../extension/messages';
import type { Verdict } from '../extension/post-verdicts';

const BATCH = 200;

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

/**
 * The secret mark, drawn from an attribute by CSS and never as text: a page's window.find() searches
 * text even inside closed shadow roots, so a text mark could be guessed symbol by symbol (issue 9,
 * test/security/browser/fake-badges.test.ts). Generated content is not searchable.
 */
function markOf(mark: string): HTMLElement {
  const span = document.createElement('span');
  span.className = 'mark';
  span.setAttribute('data-mark', mark);
  return span;
}

function drawBadge(anchor: Element, verdict: Verdict, mark: string): HTMLElement {
  let host = document.createElement('countersign-badge');
  // A page that defined this element name owns the element, and its ElementInternals would reach
  // even a closed shadow root: then a plain span, which no page can define, hosts the badge.
  if (host.matches(':defined')) {
    host = document.createElement('span');
    host.setAttribute('data-countersign-badge', '');
  }
  const root = host.attachShadow({ mode: 'closed' });
  const style = document.createElement('style');
  style.textContent = STYLE;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = verdict.state;
  button.append(markOf(mark), ` ${LABELS[verdict.state as keyof typeof LABELS]}`);
  button.setAttribute('aria-expanded', 'false');
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
  markLine.append('Genuine Countersign badges show your mark: ', markOf(mark));
  details.append(summary, list, markLine);
  button.addEventListener('click', () => {
    const open = !details.hasAttribute('data-open');
    details.toggleAttribute('data-open', open);
    button.setAttribute('aria-expanded', String(open));
  });
  root.append(style, button, details);
  anchor.append(host);
  return host;
}

export async function startBadges(ctx: ContentScriptContext): Promise<void> {
  const answer = (await messenger.sendMessage('cs-bg:badge-config', {}).catch(() => null)) as Outcome<BadgeConfig> | null;
  if (!answer?.ok || !answer.value.posts) return;
  const config = answer.value;
  const posts = config.posts!;
  const seen = new WeakSet<Element>();
  const summary: PageSummaryInput['posts'] = [];
  let queue: Node[] = [document.body];
  let scheduled = false;

  function collect(): Element[] {
    const found: Element[] = [];
    for (const node of queue) {
      if (!(node instanceof Element)) continue;
      if (node.matches(posts.container) && !seen.has(node)) found.push(node);
      for (const el of node.querySelectorAll(posts.container)) if (!seen.has(el)) found.push(el);
    }
    queue = [];
    for (const el of found) seen.add(el);
    return found;
  }

  async function drain(): Promise<void> {
    scheduled = false;
    const found = collect();
    for (let i = 0; i < found.length; i += BATCH) {
      const batch = found.slice(i, i + BATCH);
      const items = batch.map((el) => ({
        receipt: el.getAttribute(posts.receipt),
        author: el.querySelector(posts.author)?.textContent?.trim() ?? '',
        content: el.querySelector(posts.body)?.textContent ?? '',
        marked: config.markerSelectors.length > 0 && el.querySelector(config.markerSelectors.join(',')) !== null,
      }));
      const result = (await messenger.sendMessage('cs-bg:verify-posts', { posts: items }).catch(() => null)) as Outcome<Verdict[]> | null;
      if (!result?.ok || ctx.isInvalid) return;
      result.value.forEach((verdict, k) => {
        if (verdict.state === 'none') return;
        const el = batch[k]!;
        drawBadge(el.querySelector(posts.author)?.parentElement ?? el, verdict, config.mark);
        summary.push({
          state: verdict.state,
          author: items[k]!.author,
          ...(verdict.agent ? { agent: verdict.agent } : {}),
          ...(verdict.approver ? { approver: verdict.approver } : {}),
          excerpt: items[k]!.content.replace(/\s+/g, ' ').trim().slice(0, 120),
        });
      });
    }
    await messenger.sendMessage('cs-bg:page-posts', { posts: summary.slice(-5000) }).catch(() => undefined);
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    ctx.requestAnimationFrame(() => void drain());
  }

  // The callback only queues: posts are found and checked later, in batches (uBlock Origin's rule).
  const observer = new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) queue.push(n);
    if (queue.length) schedule();
  });
  observer.observe(document.body, { childList: true, subtree: true });
  ctx.onInvalidated(() => observer.disconnect());
  schedule();
}
