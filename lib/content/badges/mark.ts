// The secret mark inside a genuine badge's closed shadow root, never as text: a page's window.find()
// searches text even inside closed shadow roots, so a text mark could be guessed symbol by symbol
// (issue 9, test/security/browser/fake-badges.test.ts). A chosen text is drawn from an attribute by
// CSS (generated content is not searchable); the default pattern is drawn by CSS too, as background
// layers of one empty element (the same boxes and cells, pixel for pixel, as the options page's SVG
// of it, lib/shared/mark-pattern.ts), from rules in the badges' shared style sheet: no text, no
// image to load, and one element per badge (cloning an SVG per badge cost ~50 µs each in Chromium,
// most of a 2,000-post page's drawing). Content script only (handed the page's document).
import { PALETTE, markPattern } from '../../shared/mark-pattern';
import type { BadgeMark, Glyph } from '../../shared/mark-pattern';

/** How a page's badges draw the mark: a chosen text, or the install's pattern as style rules (`.mark.pattern`). */
export type MarkDrawing = { text: string } | { css: string };

/** Pixels per unit of the pattern's grid; a glyph is a 6 × 6 box, glyphs 1 unit apart (as patternSvg). */
const PX = 2;
const BOX = 6;
const GAP = 1;

/** A solid rectangle as one background layer. */
const layer = (colour: string, x: number, y: number, w: number, h: number) => `linear-gradient(${colour},${colour}) ${x}px ${y}px/${w}px ${h}px no-repeat`;

/**
 * The pattern's rules: per glyph its cells (2 px squares), over a white box with a 1 px outline in the
 * glyph's colour (the SVG's 0.5-unit stroke), topmost layer first. Colours come from the palette only.
 */
export function patternCss(glyphs: Glyph[]): string {
  const layers: string[] = [];
  const boxes: string[] = [];
  glyphs.forEach((glyph, g) => {
    if (!(PALETTE as readonly string[]).includes(glyph.colour)) throw new TypeError('a glyph colour outside the palette');
    const x0 = g * (BOX + GAP) * PX;
    glyph.cells.forEach((on, i) => {
      if (on) layers.push(layer(glyph.colour, x0 + PX / 2 + (i % 5) * PX, PX / 2 + Math.floor(i / 5) * PX, PX, PX));
    });
    boxes.push(layer('#fff', x0 + 1, 1, BOX * PX - 2, BOX * PX - 2), layer(glyph.colour, x0, 0, BOX * PX, BOX * PX));
  });
  const width = (glyphs.length * BOX + (glyphs.length - 1) * GAP) * PX;
  return `.mark.pattern { display: inline-block; width: ${width}px; height: ${BOX * PX}px; vertical-align: -2px; background: ${[...layers, ...boxes].join(', ')}; }`;
}

export function markDrawing(mark: BadgeMark): MarkDrawing {
  return mark.kind === 'text' ? { text: mark.text } : { css: patternCss(markPattern(mark.seed)) };
}

/** The style rules a mark needs in the badges' sheet (none for a text, whose rule is fixed). */
export function markCss(mark: MarkDrawing): string {
  return 'css' in mark ? mark.css : '';
}

/** One badge's mark element (`.mark`): empty, whatever the mark. */
export function markOf(doc: Document, mark: MarkDrawing): HTMLElement {
  const span = doc.createElement('span');
  if ('text' in mark) {
    span.className = 'mark';
    span.setAttribute('data-mark', mark.text);
  } else {
    span.className = 'mark pattern';
  }
  return span;
}
