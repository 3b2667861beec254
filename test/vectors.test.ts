// The vectors in test/vectors are byte-for-byte the independent copies from shared/vectors.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VECTORS_DIR } from './helpers/vectors';

const listed = readFileSync(join(VECTORS_DIR, 'SHA256SUMS'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const [sum, path] = line.split(/\s+/) as [string, string];
    return { sum, path: path.replace(/^\.\//, '') };
  });

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [relative(VECTORS_DIR, full)];
  });
}

describe('test vectors', () => {
  it('lists every vector file, and nothing else', () => {
    const present = filesUnder(VECTORS_DIR).filter((p) => p !== 'SHA256SUMS').sort();
    expect(listed.map((l) => l.path).sort()).toEqual(present);
    expect(present).toContain('wycheproof/LICENSE');
  });

  it.each(listed)('$path is unmodified (SHA-256 matches the list)', ({ sum, path }) => {
    const actual = createHash('sha256').update(readFileSync(join(VECTORS_DIR, path))).digest('hex');
    expect(actual).toBe(sum);
  });
});
