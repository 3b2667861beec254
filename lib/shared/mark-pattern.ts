// The badge's default secret mark: two mirrored 5×5 glyphs, each in its own colour, drawn from 36
// random bits as inline SVG, so it needs no font and no network, and no two installs are likely to
// share it (issue 22). Pure decoding plus a renderer that is handed its Document: runtime-neutral, no
// dependencies (the badge content script imports it and stays small).

/** A mark the person typed in the options page, or the random pattern made at install. */
export type BadgeMark = { kind: 'text'; text: string } | { kind: 'pattern'; seed: string };

/** Random bytes a pattern is drawn from (as lower-case hex in `seed`); the first PATTERN_BITS bits are used. */
export const PATTERN_SEED_BYTES = 5;
export const GLYPHS = 2;
/** Per glyph: 15 cells (a 5×5 grid mirrored about its middle column) and 3 bits of colour. */
const CELL_BITS = 15;
const COLOUR_BITS = 3;
export const PATTERN_BITS = GLYPHS * (CELL_BITS + COLOUR_BITS);

/** Eight colours far apart in hue and dark enough to read on white and on every badge's background. */
export const PALETTE = ['#1f6feb', '#8250df', '#bf3989', '#cf222e', '#bc4c00', '#1a7f37', '#0a7b83', '#24292f'] as const;

export interface Glyph {
  /** 25 cells, row by row; a glyph is symmetric: column 4 repeats column 0, column 3 column 1. */
  cells: boolean[];
  colour: string;
}

export const SEED_PATTERN = new RegExp(`^[0-9a-f]{${PATTERN_SEED_BYTES * 2}}$`);

/** A new seed from the platform's CSPRNG. */
export function newPatternSeed(): string {
  return [...crypto.getRandomValues(new Uint8Array(PATTERN_SEED_BYTES))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The glyphs a seed stands for: a pure function of its first PATTERN_BITS bits, one bit per choice. */
export function markPattern(seed: string): Glyph[] {
  if (!SEED_PATTERN.test(seed)) throw new TypeError(`a pattern seed is ${PATTERN_SEED_BYTES * 2} lower-case hex digits`);
  const bit = (i: number) => (parseInt(seed.slice((i >> 3) * 2, (i >> 3) * 2 + 2), 16) >> (7 - (i & 7))) & 1;
  const glyphs: Glyph[] = [];
  for (let g = 0, at = 0; g < GLYPHS; g++) {
    const free: number[] = [];
    for (let k = 0; k < CELL_BITS; k++) free.push(bit(at++));
    let colour = 0;
    for (let k = 0; k < COLOUR_BITS; k++) colour = (colour << 1) | bit(at++);
    const cells: boolean[] = [];
    for (let row = 0; row < 5; row++) for (let col = 0; col < 5; col++) cells.push(free[row * 3 + (col < 3 ? col : 4 - col)] === 1);
    glyphs.push({ cells, colour: PALETTE[colour]! });
  }
  return glyphs;
}

const SVG = 'http://www.w3.org/2000/svg';
/** One glyph's box in viewBox units (cells are 1 unit, half a unit of margin); drawn at 2 px per unit. */
const BOX = 6;
const GAP = 1;

/**
 * The glyphs as one <svg>: per glyph a white box outlined in its colour and one path of its cells (a
 * few elements per badge, cloned from one template). No text anywhere, so a page's find() has nothing
 * to search even where it reaches into closed shadow roots.
 */
export function patternSvg(doc: Document, glyphs: Glyph[]): SVGSVGElement {
  const width = glyphs.length * BOX + (glyphs.length - 1) * GAP;
  const svg = doc.createElementNS(SVG, 'svg');
  const set = (el: Element, attrs: Record<string, string | number>) => {
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    return el;
  };
  set(svg, { viewBox: `0 0 ${width} ${BOX}`, width: width * 2, height: BOX * 2, 'shape-rendering': 'crispEdges', 'aria-hidden': 'true', focusable: 'false' });
  glyphs.forEach((glyph, g) => {
    const x0 = g * (BOX + GAP);
    svg.append(set(doc.createElementNS(SVG, 'rect'), { x: x0 + 0.25, y: 0.25, width: BOX - 0.5, height: BOX - 0.5, fill: '#fff', stroke: glyph.colour, 'stroke-width': 0.5 }));
    let d = '';
    glyph.cells.forEach((on, i) => {
      if (on) d += `M${x0 + 0.5 + (i % 5)} ${0.5 + Math.floor(i / 5)}h1v1h-1z`;
    });
    if (d) svg.append(set(doc.createElementNS(SVG, 'path'), { d, fill: glyph.colour }));
  });
  return svg as SVGSVGElement;
}
