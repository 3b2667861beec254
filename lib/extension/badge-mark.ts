// The per-install secret mark every genuine badge carries, so a page cannot draw a convincing fake:
// text chosen in the options page, or by default a random pattern made once per install
// (mark-pattern.ts: inline SVG, no font needed). Background only.
import { z } from 'zod';
import { defineSetting } from './settings';
import { SEED_PATTERN, newPatternSeed } from '../shared/mark-pattern';
import type { BadgeMark } from '../shared/mark-pattern';

export const BADGE_MARK_KEY = 'badge-mark';

const StoredMark = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('text'), text: z.string().min(1).max(64) }),
  z.strictObject({ kind: z.literal('pattern'), seed: z.string().regex(SEED_PATTERN) }),
]);

/** The old default: two of these emoji, drawn as two empty boxes where no emoji font is installed. */
const OLD_DEFAULT_SYMBOLS = new Set(['🦉', '🌵', '🪁', '🧭', '🍋', '🐙', '🪐', '🌻', '🦊', '🎈', '🧩', '🍉']);

function isOldDefault(mark: string): boolean {
  const symbols = [...mark];
  return symbols.length === 2 && symbols.every((s) => OLD_DEFAULT_SYMBOLS.has(s));
}

const newPattern = (): BadgeMark => ({ kind: 'pattern', seed: newPatternSeed() });

/**
 * The mark, made on first use (and again for a stored value this build cannot read). Version 2 since
 * issue 22: before, it was a bare string, the person's text or the old default; the person's own text
 * stays theirs, the old emoji default becomes a new pattern.
 */
export const badgeMarkSetting = defineSetting<BadgeMark>(BADGE_MARK_KEY, {
  schema: StoredMark,
  version: 2,
  migrations: {
    2: (old) => {
      if (typeof old !== 'string') return old;
      const text = old.trim();
      return text && !isOldDefault(text) ? { kind: 'text', text } : newPattern();
    },
  },
  init: newPattern,
});

/** The mark; two first calls at once agree on one. */
export function badgeMark(): Promise<BadgeMark> {
  return badgeMarkSetting.getValue();
}

/** The person's own mark; an empty one goes back to a new random pattern. */
export async function setBadgeMark(text: string): Promise<BadgeMark> {
  const trimmed = text.trim();
  const mark: BadgeMark = trimmed ? { kind: 'text', text: trimmed } : newPattern();
  await badgeMarkSetting.setValue(mark);
  return mark;
}

/** A new random pattern in place of whatever mark there was. */
export async function newPatternMark(): Promise<BadgeMark> {
  return setBadgeMark('');
}
