// The mark inside a badge, rendered with linkedom: the default pattern is SVG shapes only (no text, so
// no font is needed and a page's find() has nothing to search), drawn exactly from its glyphs and
// cloned per badge; a chosen text is an attribute that CSS draws, never a text node (issue 9).
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { markDrawing, markOf } from '@/lib/content/badges/mark';
import { markPattern, patternSvg } from '@/lib/shared/mark-pattern';

const doc = () => parseHTML('<html><body></body></html>').document as unknown as Document;

/** The cells a path draws, as "column,row" of its glyph. */
function cellsOf(d: string, x0: number): string[] {
  return [...d.matchAll(/M([\d.]+) ([\d.]+)h1v1h-1z/g)].map((m) => `${Number(m[1]) - 0.5 - x0},${Number(m[2]) - 0.5}`);
}

describe('the pattern as SVG', () => {
  it('draws each glyph\'s cells in its colour on an outlined box, and nothing else: no text anywhere', () => {
    const seed = '5a3cf0e19b';
    const glyphs = markPattern(seed);
    const svg = patternSvg(doc(), glyphs);
    expect(svg.namespaceURI).toBe('http://www.w3.org/2000/svg');
    expect(svg.getAttribute('viewBox')).toBe('0 0 13 6');
    expect(svg.textContent).toBe('');
    expect(svg.querySelectorAll('text, foreignObject, image, use').length).toBe(0);
    const rects = [...svg.querySelectorAll('rect')];
    const paths = [...svg.querySelectorAll('path')];
    expect(rects.map((r) => r.getAttribute('stroke'))).toEqual(glyphs.map((g) => g.colour));
    // One path per glyph that has cells, in glyph order, in the glyph's colour, at its box's offset.
    const drawn = glyphs.flatMap((g, i) => (g.cells.some(Boolean) ? [{ g, i }] : []));
    expect(paths).toHaveLength(drawn.length);
    drawn.forEach(({ g, i }, n) => {
      expect(paths[n]!.getAttribute('fill')).toBe(g.colour);
      const want = g.cells.flatMap((on, k) => (on ? [`${k % 5},${Math.floor(k / 5)}`] : []));
      expect(cellsOf(paths[n]!.getAttribute('d')!, i * 7).sort()).toEqual(want.sort());
    });
  });

  it('a glyph with no cells is its outlined box alone', () => {
    // Bits 0-14 zero: the first glyph has no cells; its colour bits (15-17) pick a colour still.
    const glyphs = markPattern('0000000000');
    const svg = patternSvg(doc(), glyphs);
    expect(glyphs.every((g) => g.cells.every((c) => !c))).toBe(true);
    expect(svg.querySelectorAll('rect').length).toBe(2);
    expect(svg.querySelectorAll('path').length).toBe(0);
  });

  it('different seeds draw different SVG', () => {
    const a = patternSvg(doc(), markPattern('5a3cf0e19b')).outerHTML;
    const b = patternSvg(doc(), markPattern('4a3cf0e19b')).outerHTML;
    expect(a).not.toBe(b);
  });
});

describe('a badge\'s mark element', () => {
  it('a pattern: a clone of one SVG per badge, the template untouched; no data-mark, no text', () => {
    const d = doc();
    const drawing = markDrawing(d, { kind: 'pattern', seed: '5a3cf0e19b' });
    const one = markOf(d, drawing);
    const two = markOf(d, drawing);
    expect(one.className).toBe('mark');
    expect(one.hasAttribute('data-mark')).toBe(false);
    expect(one.textContent).toBe('');
    const svgOne = one.querySelector('svg')!;
    expect(svgOne).not.toBe(two.querySelector('svg'));
    expect(svgOne.outerHTML).toBe(two.querySelector('svg')!.outerHTML);
    expect('svg' in drawing && drawing.svg.parentNode).toBeNull();
  });

  it('a chosen text: drawn by CSS from data-mark, never a text node', () => {
    const d = doc();
    const el = markOf(d, markDrawing(d, { kind: 'text', text: 'ZQ7🦉' }));
    expect(el.getAttribute('data-mark')).toBe('ZQ7🦉');
    expect(el.textContent).toBe('');
    expect(el.childNodes.length).toBe(0);
  });
});
