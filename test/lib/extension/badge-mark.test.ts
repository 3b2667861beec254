// The badge's secret mark: by default a pattern drawn from 36 random bits (no font needed), made once
// per install and stored; a text the person chose keeps working; the old two-emoji default (two empty
// boxes without an emoji font, the same on every install) is replaced by a pattern (issue 22).
import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BADGE_MARK_KEY, badgeMark, newPatternMark, setBadgeMark } from '@/lib/extension/badge-mark';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { PALETTE, PATTERN_BITS, PATTERN_SEED_BYTES, markPattern, newPatternSeed } from '@/lib/shared/mark-pattern';

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const flip = (seed: string, bit: number) => {
  const bytes = Uint8Array.from(seed.match(/../g)!.map((h) => parseInt(h, 16)));
  bytes[bit >> 3]! ^= 0x80 >> (bit & 7);
  return hex(bytes);
};
const seeds = fc.uint8Array({ minLength: PATTERN_SEED_BYTES, maxLength: PATTERN_SEED_BYTES }).map(hex);
/** The bits a pattern stands for, as a number (36 bits fit a double exactly). */
const usedBits = (seed: string) => Math.floor(parseInt(seed, 16) / 2 ** (PATTERN_SEED_BYTES * 8 - PATTERN_BITS));

describe('the pattern generator', () => {
  it('draws from at least 32 random bits: two glyphs of 15 cells and 3 bits of colour each', () => {
    expect(PATTERN_BITS).toBe(36);
    expect(PATTERN_BITS).toBeGreaterThanOrEqual(32);
    expect(PATTERN_SEED_BYTES * 8).toBeGreaterThanOrEqual(PATTERN_BITS);
  });

  it('is deterministic: the same seed, the same pattern; each glyph is a mirrored 5×5 grid in a palette colour', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const glyphs = markPattern(seed);
        expect(markPattern(seed)).toEqual(glyphs);
        expect(glyphs).toHaveLength(2);
        for (const g of glyphs) {
          expect(g.cells).toHaveLength(25);
          for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) expect(g.cells[r * 5 + c]).toBe(g.cells[r * 5 + 4 - c]);
          expect(PALETTE).toContain(g.colour);
        }
      }),
    );
  });

  it('every one of the 36 bits changes the pattern; the seed\'s spare bits change nothing', () => {
    const seed = 'a5c3e1f00f';
    const base = JSON.stringify(markPattern(seed));
    for (let bit = 0; bit < PATTERN_BITS; bit++) expect(JSON.stringify(markPattern(flip(seed, bit))), `bit ${bit}`).not.toBe(base);
    for (let bit = PATTERN_BITS; bit < PATTERN_SEED_BYTES * 8; bit++) expect(JSON.stringify(markPattern(flip(seed, bit)))).toBe(base);
  });

  it('distinct bits give distinct marks (property), and 20,000 random installs show as many marks as distinct bit strings', () => {
    fc.assert(
      fc.property(seeds, seeds, (a, b) => {
        if (usedBits(a) !== usedBits(b)) expect(JSON.stringify(markPattern(a))).not.toBe(JSON.stringify(markPattern(b)));
      }),
    );
    const marks = new Set<string>();
    const bits = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const seed = newPatternSeed();
      marks.add(JSON.stringify(markPattern(seed)));
      bits.add(usedBits(seed));
    }
    expect(marks.size).toBe(bits.size);
    expect(marks.size).toBeGreaterThan(19_990);
  });

  it('a new seed comes from crypto.getRandomValues; a malformed seed is a TypeError', () => {
    const spy = vi.spyOn(crypto, 'getRandomValues');
    expect(newPatternSeed()).toMatch(/^[0-9a-f]{10}$/);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    for (const bad of ['', 'zzzzzzzzzz', 'A5C3E1F00F', 'a5c3e1f0']) expect(() => markPattern(bad)).toThrow(TypeError);
  });
});

describe('the stored mark', () => {
  beforeEach(() => useDatabase(new CountersignDb(`cs-mark-${crypto.randomUUID()}`)));

  it('is a pattern made once per install: later reads, and first reads at the same time, agree', async () => {
    const [a, b] = await Promise.all([badgeMark(), badgeMark()]);
    expect(a).toEqual({ kind: 'pattern', seed: expect.stringMatching(/^[0-9a-f]{10}$/) });
    expect(b).toEqual(a);
    expect(await badgeMark()).toEqual(a);
    expect((await db().settings.get(BADGE_MARK_KEY))?.value).toEqual(a);
  });

  it('two installs get different patterns', async () => {
    const first = await badgeMark();
    useDatabase(new CountersignDb(`cs-mark-${crypto.randomUUID()}`));
    expect(await badgeMark()).not.toEqual(first);
  });

  it('a text the person chose keeps working; an empty one, or "new pattern", goes back to a new random pattern', async () => {
    const pattern = await badgeMark();
    await setBadgeMark('  ZQ7🦉 ');
    expect(await badgeMark()).toEqual({ kind: 'text', text: 'ZQ7🦉' });
    await setBadgeMark('');
    const fresh = await badgeMark();
    expect(fresh.kind).toBe('pattern');
    expect(fresh).not.toEqual(pattern);
    expect(await newPatternMark()).not.toEqual(fresh);
  });

  it('migrates a mark stored as a bare string: the person\'s text stays; the old two-emoji default becomes a pattern', async () => {
    await db().settings.put({ key: BADGE_MARK_KEY, value: 'ZQ7' });
    expect(await badgeMark()).toEqual({ kind: 'text', text: 'ZQ7' });
    expect((await db().settings.get(BADGE_MARK_KEY))?.value).toEqual({ kind: 'text', text: 'ZQ7' });
    await db().settings.put({ key: BADGE_MARK_KEY, value: '🦉🌵' });
    expect((await badgeMark()).kind).toBe('pattern');
    // One emoji of the old set, or three, was the person's own choice.
    await db().settings.put({ key: BADGE_MARK_KEY, value: '🦉' });
    expect(await badgeMark()).toEqual({ kind: 'text', text: '🦉' });
  });

  it('a stored value this build cannot read becomes a new pattern, never a crash or an empty mark', async () => {
    await db().settings.put({ key: BADGE_MARK_KEY, value: { kind: 'pattern', seed: 'not hex' } });
    expect(await badgeMark()).toEqual({ kind: 'pattern', seed: expect.stringMatching(/^[0-9a-f]{10}$/) });
  });
});
