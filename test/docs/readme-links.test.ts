// A clone documents itself: every file or folder the README links to or shows as an image is in the
// repository (no link outside it, such as ../shared/), so a newcomer never meets a dead link. Node only (tests).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(resolve(ROOT, 'README.md'), 'utf8');

/** Markdown link and image targets that are not web URLs or in-page anchors. */
function localTargets(markdown: string): string[] {
  const targets = [...markdown.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#')).map((t) => t.split('#', 1)[0]!);
}

describe('README links', () => {
  const targets = localTargets(README);

  it('links to some files at all (the test can fail)', () => {
    expect(targets.length).toBeGreaterThan(5);
  });

  it.each(targets)('%s is in the repository', (target) => {
    const path = resolve(ROOT, target);
    expect(path.startsWith(`${ROOT}/`), `${target} points outside the repository`).toBe(true);
    expect(existsSync(path), `${target} does not exist`).toBe(true);
  });
});
