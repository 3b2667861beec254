// The per-install secret mark every genuine badge carries, so a page cannot draw a convincing fake:
// chosen in the options page, or made at random on first use. Background only.
import { db } from './db';

const KEY = 'badge-mark';
const SYMBOLS = ['🦉', '🌵', '🪁', '🧭', '🍋', '🐙', '🪐', '🌻', '🦊', '🎈', '🧩', '🍉'];

export async function badgeMark(): Promise<string> {
  const stored = (await db().settings.get(KEY))?.value;
  if (typeof stored === 'string' && stored) return stored;
  const pick = crypto.getRandomValues(new Uint8Array(2));
  const mark = `${SYMBOLS[pick[0]! % SYMBOLS.length]}${SYMBOLS[pick[1]! % SYMBOLS.length]}`;
  await db().settings.put({ key: KEY, value: mark });
  return mark;
}

export async function setBadgeMark(mark: string): Promise<void> {
  await db().settings.put({ key: KEY, value: mark.trim() });
}
