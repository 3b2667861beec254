// The seams between contexts, read from the import graph: nothing a content script or the
// runtime-neutral folders load reaches a background module (lib/extension/), even for a type (the
// extension pages may: they share the extension origin's database, lib/extension/db.ts); lib/messaging imports no extension runtime but the messenger's; and what content scripts load
// at run time from lib/messaging carries no zod (the message map's schemas stay in the background).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const rel = (file: string) => relative(ROOT, file).split('\\').join('/');

interface Edge {
  spec: string;
  /** `import type` / `export type`: erased, loads nothing at run time. */
  typeOnly: boolean;
}

/** Every module specifier in static imports, re-exports and dynamic imports, with whether it is type-only. */
function edges(source: string): Edge[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: Edge[] = [];
  for (const m of code.matchAll(/(?:^|[\s;])(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/g)) found.push({ spec: m[4]!, typeOnly: Boolean(m[2]) });
  for (const m of code.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g)) found.push({ spec: m[1]!, typeOnly: false });
  for (const m of code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]/g)) found.push({ spec: m[1]!, typeOnly: false });
  return found;
}

/** The file a relative or `@/` specifier names, or null for a package. */
function resolveSpec(from: string, spec: string): string | null {
  const base = spec.startsWith('@/') ? join(ROOT, spec.slice(2)) : spec.startsWith('.') ? resolve(dirname(from), spec) : null;
  if (base === null) return null;
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${rel(from)}: cannot resolve ${spec}`);
}

/** Every module reachable from `start` (itself included); `runtimeOnly` follows only imports that load code. */
function reachable(start: string, runtimeOnly: boolean): Map<string, Edge[]> {
  const seen = new Map<string, Edge[]>();
  const queue = [start];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const found = edges(readFileSync(file, 'utf8')).filter((e) => !runtimeOnly || !e.typeOnly);
    seen.set(file, found);
    for (const e of found) {
      const next = resolveSpec(file, e.spec);
      if (next) queue.push(next);
    }
  }
  return seen;
}

function modulesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => join(ROOT, dir, f));
}

const BACKGROUND = join(ROOT, 'lib/extension/');
const NEUTRAL = ['lib/content', 'lib/messaging', 'lib/policy', 'lib/shared'].flatMap(modulesUnder);
const CONTENT_ENTRIES = readdirSync(join(ROOT, 'entrypoints')).filter((f) => f.endsWith('.content.ts')).map((f) => join(ROOT, 'entrypoints', f));

describe('no content script or runtime-neutral module reaches a background module', () => {
  it('has modules and content-script entries to check', () => {
    expect(NEUTRAL.length).toBeGreaterThan(15);
    expect(CONTENT_ENTRIES.map(rel).sort()).toEqual(['entrypoints/badges.content.ts', 'entrypoints/hold.content.ts', 'entrypoints/hooks.content.ts']);
  });

  it.each([...NEUTRAL, ...CONTENT_ENTRIES].map(rel))('%s reaches nothing under lib/extension/, through any import (types too)', (file) => {
    const path = [...reachable(join(ROOT, file), false).keys()].filter((f) => f.startsWith(BACKGROUND)).map(rel);
    expect(path).toEqual([]);
  });
});

describe('lib/messaging is runtime-neutral', () => {
  it.each(modulesUnder('lib/messaging').map(rel))('%s imports only zod, the messenger package (messenger.ts) and its own folder, protocol, policy and shared', (file) => {
    for (const { spec } of edges(readFileSync(join(ROOT, file), 'utf8'))) {
      const ok = spec.startsWith('./') || /^\.\.\/(protocol|policy|shared)\//.test(spec) || spec === 'zod' || (spec === '@webext-core/messaging' && file.endsWith('/messenger.ts'));
      expect(ok, `${file} imports ${spec}`).toBe(true);
    }
  });
});

describe('content scripts load no zod from lib/messaging', () => {
  it.each(CONTENT_ENTRIES.map(rel))('%s loads at run time only lib/messaging modules that import no zod (the map and views come as types)', (file) => {
    const loaded = [...reachable(join(ROOT, file), true)].filter(([f]) => rel(f).startsWith('lib/messaging/'));
    for (const [f, found] of loaded) expect(found.map((e) => e.spec), rel(f)).not.toContain('zod');
    expect(loaded.map(([f]) => rel(f))).not.toContain('lib/messaging/contract.ts');
    expect(loaded.map(([f]) => rel(f))).not.toContain('lib/messaging/views.ts');
  });

  it('the checker sees a type-only import apart from one that loads code, and a forbidden path', () => {
    expect(edges("import type { A } from './a';\nimport { b, type C } from './b';\nexport type { D } from './d';\nexport { e } from '../e';")).toEqual([
      { spec: './a', typeOnly: true },
      { spec: './b', typeOnly: false },
      { spec: './d', typeOnly: true },
      { spec: '../e', typeOnly: false },
    ]);
    expect([...reachable(join(ROOT, 'lib/messaging/contract.ts'), true).keys()].map(rel)).toContain('lib/messaging/views.ts');
    expect([...reachable(join(ROOT, 'lib/extension/router.ts'), false).keys()].some((f) => f.startsWith(BACKGROUND))).toBe(true);
  });
});
