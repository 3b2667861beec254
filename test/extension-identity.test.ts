// The manifest key fixes the documented extension id (tests and managed policy key on it).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXTENSION_ID, EXTENSION_KEY } from '@/lib/extension-identity';

describe('extension identity', () => {
  it('EXTENSION_ID is derived from EXTENSION_KEY the way Chromium derives it', () => {
    const hex = createHash('sha256').update(Buffer.from(EXTENSION_KEY, 'base64')).digest('hex').slice(0, 32);
    const id = [...hex].map((c) => String.fromCharCode(97 + Number.parseInt(c, 16))).join('');
    expect(id).toBe(EXTENSION_ID);
  });

  it('the README documents the id', () => {
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(EXTENSION_ID);
  });
});
