// One genuine badge: a closed shadow root beside the post's author, with the verdict's label, the
// install's secret mark and a details panel built on first open. Made detached (makeBadge), so that a
// pass builds all its badges first and then inserts them in one write. Isolated content script only
// (handed the page's document); no React.
import type { Verdict } from '../../messaging/contract';
import { markCss, markOf } from './mark';
import type { MarkDrawing } from './mark';
import { LABELS, describe } from './verdicts';
import type { Drawn } from './verdicts';

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

/** The shared sheet and its rules, for the mark they were made with (a page's mark is one for the page's life). */
let shared: { mark: MarkDrawing; rules: string; sheet: CSSStyleSheet | null } | undefined;

/**
 * Styles a badge's shadow root: one constructed style sheet shared by every badge (parsed once,
 * one rule set for the style engine), or a <style> of its own where a browser does not adopt
 * sheets from a content script.
 */
function style(doc: Document, root: ShadowRoot, mark: MarkDrawing): void {
  if (shared?.mark !== mark) {
    const rules = STYLE + markCss(mark);
    let sheet: CSSStyleSheet | null = null;
    try {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(rules);
    } catch {
      sheet = null;
    }
    shared = { mark, rules, sheet };
  }
  if (shared.sheet) {
    try {
      root.adoptedStyleSheets = [shared.sheet];
      if (root.adoptedStyleSheets.length === 1) return;
    } catch {
      // fall through to a <style> element
    }
    shared.sheet = null;
  }
  const el = doc.createElement('style');
  el.textContent = shared.rules;
  root.append(el);
}

function detailsPanel(doc: Document, verdict: Verdict, mark: MarkDrawing): HTMLElement {
  const details = doc.createElement('div');
  details.className = 'details';
  details.setAttribute('role', 'dialog');
  details.setAttribute('aria-label', 'Countersign provenance');
  const summary = doc.createElement('p');
  summary.textContent = describe(verdict);
  const list = doc.createElement('ul');
  for (const check of [...verdict.checks, ...(verdict.traceId ? [`trace ${verdict.traceId}`] : [])]) {
    const li = doc.createElement('li');
    li.textContent = check;
    list.append(li);
  }
  const markLine = doc.createElement('p');
  markLine.append('Genuine Countersign badges show your mark: ', markOf(doc, mark));
  details.append(summary, list, markLine);
  return details;
}

/** A badge for `verdict` (not 'none'), not yet in the page; returns its host (the page can move it, never look inside). */
export function makeBadge(doc: Document, verdict: Verdict, mark: MarkDrawing): HTMLElement {
  let host = doc.createElement('countersign-badge');
  // A page that defined this element name owns the element, and its ElementInternals would reach
  // even a closed shadow root: then a plain span, which no page can define, hosts the badge.
  if (host.matches(':defined')) {
    host = doc.createElement('span');
    host.setAttribute('data-countersign-badge', '');
  }
  const root = host.attachShadow({ mode: 'closed' });
  style(doc, root, mark);
  const button = doc.createElement('button');
  button.type = 'button';
  button.className = verdict.state;
  button.append(markOf(doc, mark), ` ${LABELS[verdict.state as Drawn]}`);
  button.setAttribute('aria-expanded', 'false');
  // The details panel is built on the first click: most badges are never opened, and a page of
  // 2,000 posts would otherwise build ten more elements per badge up front.
  let details: HTMLElement | null = null;
  button.addEventListener('click', () => {
    details ??= root.appendChild(detailsPanel(doc, verdict, mark));
    const open = !details.hasAttribute('data-open');
    details.toggleAttribute('data-open', open);
    button.setAttribute('aria-expanded', String(open));
  });
  root.append(button);
  return host;
}

/** Draws a badge for `verdict` (not 'none') at the end of `anchor`; returns its host. */
export function drawBadge(doc: Document, anchor: Element, verdict: Verdict, mark: MarkDrawing): HTMLElement {
  const host = makeBadge(doc, verdict, mark);
  anchor.append(host);
  return host;
}
