// The per-install secret mark every genuine badge carries, so a page cannot draw a convincing fake:
// text chosen in the options page, or by default a random pattern made once per install
// (mark-pattern.ts: inline SVG, no font needed). Background only.
import { z } from 'zod';
import { db } from './db';
import { SEED_PATTERN, newPatternSeed } from '../shared/mark-pattern';
import type { BadgeMark } from '../shared/mark-pattern';

export const BADGE_MARK_KEY = 'badge-mark';

/** The stored mark. Before issue 22 it was a bare string: the person's text, or the old default. */
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

/**
 * The mark, made on first use. A string stored by an earlier version is migrated: the person's own
 * text stays theirs; the old emoji default becomes a new pattern. One transaction: two first calls at
 * once agree on one mark.
 */
export function badgeMark(): Promise<BadgeMark> {
  return db().transaction('rw', db().settings, async () => {
    const stored = (await db().settings.get(BADGE_MARK_KEY))?.value;
    const parsed = StoredMark.safeParse(stored);
    if (parsed.success) return parsed.data;
    const text = typeof stored === 'string' ? stored.trim() : '';
    const mark: BadgeMark = text && !isOldDefault(text) ? { kind: 'text', text } : { kind: 'pattern', seed: newPatternSeed() };
    await db().settings.put({ key: BADGE_MARK_KEY, value: mark });
    return mark;
  });
}

/** The person's own mark; an empty one goes back to a new random pattern. */
export async function setBadgeMark(text: string): Promise<BadgeMark> {
  const trimmed = text.trim();
  const mark: BadgeMark = trimmed ? { kind: 'text', text: trimmed } : { kind: 'pattern', seed: newPatternSeed() };
  await db().settings.put({ key: BADGE_MARK_KEY, value: mark });
  return mark;
}

/** A new random pattern in place of whatever mark there was. */
export async function newPatternMark(): Promise<BadgeMark> {
  return setBadgeMark('');
}
