// lib/protocol imports nothing platform-specific: only zod, jose, canonicalize and its own modules,
// and touches no Node, browser-extension, DOM or Dexie global.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = fileURLToPath(new URL('../../../lib/protocol/', import.meta.url));
const ALLOWED_PACKAGES = new Set(['zod', 'jose', 'canonicalize']);
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));

/** Every module specifier in static imports, re-exports and dynamic imports. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:^|\s)(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of source.matchAll(/(?:^|\s)import\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of source.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  return found;
}

/** Platform globals that would tie the protocol to one runtime. */
const FORBIDDEN_GLOBALS = /\b(?:browser|chrome)\.[a-z]|\bprocess\.|\bBuffer\b|\brequire\(|\bindexedDB\b|\bDexie\b|\bwindow\.|\bdocument\.|\b__dirname\b/;

describe('lib/protocol is runtime-neutral', () => {
  it('has modules to check', () => expect(files.length).toBeGreaterThan(8));

  it.each(files)('%s imports only zod, jose, canonicalize and sibling modules', (file) => {
    const source = readFileSync(DIR + file, 'utf8');
    for (const spec of specifiers(source)) {
      const ok = spec.startsWith('./') ? !spec.includes('..') : ALLOWED_PACKAGES.has(spec);
      expect(ok, `${file} imports ${spec}`).toBe(true);
    }
  });

  it.each(files)('%s uses no Node, extension, DOM or Dexie global', (file) => {
    const code = readFileSync(DIR + file, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    expect(code.match(FORBIDDEN_GLOBALS)?.[0] ?? null, file).toBeNull();
  });

  it('the checker itself catches a forbidden import and global', () => {
    expect(specifiers("import { readFileSync } from 'node:fs';\nexport { x } from '../lib/x';")).toEqual(['node:fs', '../lib/x']);
    expect(specifiers("const db = await import('dexie');")).toEqual(['dexie']);
    expect(FORBIDDEN_GLOBALS.test('await browser.storage.local.get()')).toBe(true);
    expect(FORBIDDEN_GLOBALS.test('Buffer.from(x)')).toBe(true);
  });
});
