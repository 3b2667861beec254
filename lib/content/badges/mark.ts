// The secret mark inside a genuine badge's closed shadow root, never as text: a page's window.find()
// searches text even inside closed shadow roots, so a text mark could be guessed symbol by symbol
// (issue 9, test/security/browser/fake-badges.test.ts). A chosen text is drawn from an attribute by
// CSS (generated content is not searchable); the default pattern is SVG shapes, which need no font
// and hold no text at all. Content script only (handed the page's document).
import { markPattern, patternSvg } from '../../shared/mark-pattern';
import type { BadgeMark } from '../../shared/mark-pattern';

/** How a page's badges draw the mark: a chosen text, or the install's pattern (its SVG made once, cloned per badge). */
export type MarkDrawing = { text: string } | { svg: SVGSVGElement };

export function markDrawing(doc: Document, mark: BadgeMark): MarkDrawing {
  return mark.kind === 'text' ? { text: mark.text } : { svg: patternSvg(doc, markPattern(mark.seed)) };
}

/** One badge's mark element (`.mark`). */
export function markOf(doc: Document, mark: MarkDrawing): HTMLElement {
  const span = doc.createElement('span');
  span.className = 'mark';
  if ('text' in mark) span.setAttribute('data-mark', mark.text);
  else span.append(mark.svg.cloneNode(true));
  return span;
}
