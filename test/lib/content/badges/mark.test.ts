// The mark inside a badge, rendered with linkedom: the default pattern is SVG shapes only (no text, so
// no font is needed and a page's find() has nothing to search), drawn exactly from its glyphs; in a
// badge the same boxes and cells are CSS background layers of one empty element (no clone per badge);
// a chosen text is an attribute that CSS draws, never a text node (issue 9).
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { markDrawing, markOf, patternCss } from '@/lib/content/badges/mark';
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

/** The solid rectangles a pattern's CSS draws, topmost first, as "colour x,y wxh" in pixels. */
function layersOf(css: string): string[] {
  return [...css.matchAll(/linear-gradient\((#[0-9a-f]+),\1\) (\d+)px (\d+)px\/(\d+)px (\d+)px no-repeat/g)].map((m) => `${m[1]} ${m[2]},${m[3]} ${m[4]}x${m[5]}`);
}

describe('the pattern as CSS (in a badge)', () => {
  it('the SVG\'s boxes and cells at 2 px a unit: each glyph\'s cells over a white box outlined in its colour', () => {
    const seed = '5a3cf0e19b';
    const glyphs = markPattern(seed);
    const svg = patternSvg(doc(), glyphs);
    const css = patternCss(glyphs);
    expect(css).toMatch(/^\.mark\.pattern \{ display: inline-block; width: 26px; height: 12px; vertical-align: -2px; background: /);
    const layers = layersOf(css);
    const paths = [...svg.querySelectorAll('path')];
    const cells = glyphs.flatMap((g, k) => (g.cells.some(Boolean) ? cellsOf(paths.shift()!.getAttribute('d')!, k * 7).map((c) => [g.colour, k, c] as const) : []));
    expect(layers.length).toBe(cells.length + 2 * glyphs.length);
    expect(layers.slice(0, cells.length)).toEqual(cells.map(([colour, k, c]) => {
      const [col, row] = c.split(',').map(Number);
      return `${colour} ${k * 14 + 1 + 2 * col!},${1 + 2 * row!} 2x2`;
    }));
    expect(layers.slice(cells.length)).toEqual(glyphs.flatMap((g, k) => [`#fff ${k * 14 + 1},1 10x10`, `${g.colour} ${k * 14},0 12x12`]));
  });

  it('no glyph cells: only the boxes', () => {
    expect(layersOf(patternCss(markPattern('0000000000')))).toHaveLength(4);
  });
});

describe('a badge\'s mark element', () => {
  it('a pattern: one empty element per badge, drawn by the sheet\'s rules; no data-mark, no text, no child', () => {
    const d = doc();
    const drawing = markDrawing({ kind: 'pattern', seed: '5a3cf0e19b' });
    expect('css' in drawing && drawing.css).toBe(patternCss(markPattern('5a3cf0e19b')));
    const one = markOf(d, drawing);
    expect(one.className).toBe('mark pattern');
    expect(one.hasAttribute('data-mark')).toBe(false);
    expect([one.textContent, one.childNodes.length]).toEqual(['', 0]);
  });

  it('a chosen text: drawn by CSS from data-mark, never a text node', () => {
    const d = doc();
    const el = markOf(d, markDrawing({ kind: 'text', text: 'ZQ7🦉' }));
    expect(el.getAttribute('data-mark')).toBe('ZQ7🦉');
    expect(el.textContent).toBe('');
    expect(el.childNodes.length).toBe(0);
  });
});
