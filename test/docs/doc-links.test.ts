// The repository's reference documents link only to files the repository holds (a clone has no
// ../shared). Node only (tests).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = ['docs/protocol.md', 'docs/security.md'];

/** Relative link targets of a Markdown file, without fragments: `[text](target)` and `[text]: target`. */
function localLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g), ...markdown.matchAll(/^\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#')).map((t) => decodeURIComponent(t.split('#', 1)[0]!));
}

describe.each(DOCS)('%s', (file) => {
  const path = join(ROOT, file);
  const text = readFileSync(path, 'utf8');
  const links = localLinks(text);

  it('links to at least one file', () => {
    expect(links.length).toBeGreaterThan(0);
  });

  it('links only to files that exist inside the repository', () => {
    const broken = links.filter((link) => {
      const target = resolve(dirname(path), link);
      return relative(ROOT, target).startsWith('..') || !existsSync(target);
    });
    expect(broken).toEqual([]);
  });

  it('has every in-page anchor it links to', () => {
    const slugs = new Set(
      [...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, '')
          .replace(/ /g, '-'),
      ),
    );
    const anchors = [...text.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
    expect(anchors.filter((a) => !slugs.has(a))).toEqual([]);
  });
});
