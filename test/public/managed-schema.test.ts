// public/managed_schema.json declares exactly the admin policy that lib/protocol's zod schema
// accepts, with matching types: what Chrome lets an admin push is what the extension parses.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AdminPolicy } from '@/lib/protocol';

interface ChromeSchema { type: string; properties: Record<string, { type: string; items?: { type: string }; minimum?: number; maximum?: number }> }
const schema = JSON.parse(readFileSync(new URL('../../public/managed_schema.json', import.meta.url), 'utf8')) as ChromeSchema;
const json = z.toJSONSchema(AdminPolicy) as { properties: Record<string, { type?: string; items?: { type?: string }; minimum?: number; maximum?: number }> };

describe('managed_schema.json', () => {
  it('has the same keys as AdminPolicy', () => {
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(json.properties).sort());
  });

  it.each(Object.keys(json.properties))('%s has the zod type (adapters stay a string: Chrome drops a whole value that fails its schema)', (key) => {
    const zodType = json.properties[key]!;
    const chrome = schema.properties[key]!;
    expect(chrome.type).toBe(zodType.type);
    if (zodType.items) expect(chrome.items?.type).toBe(zodType.items.type);
    if (zodType.minimum !== undefined) expect(chrome.minimum).toBe(zodType.minimum);
    if (zodType.maximum !== undefined) expect(chrome.maximum).toBe(zodType.maximum);
  });

  it('keeps every typed key scalar or an array of strings', () => {
    for (const [key, value] of Object.entries(schema.properties)) {
      const ok = ['string', 'boolean', 'integer'].includes(value.type) || (value.type === 'array' && value.items?.type === 'string');
      expect(ok, key).toBe(true);
    }
  });
});
