// Strict encodings: canonical base64url, strict UTF-8 and strict JSON (J-11, J-12).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64urlStrict, decodeUtf8Strict, encodeBase64url, isCanonicalBase64url, newTraceId } from '@/lib/protocol/encoding';
import { parseJsonStrict } from '@/lib/protocol/strict-json';

describe('canonical base64url', () => {
  it('round-trips any bytes, and only the encoder\'s spelling is canonical (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const s = encodeBase64url(bytes);
        expect(isCanonicalBase64url(s)).toBe(true);
        expect(decodeBase64urlStrict(s)).toEqual(bytes);
      }),
    );
  });

  it.each([
    ['padding', 'AA=='],
    ['standard alphabet +', 'A+A'],
    ['standard alphabet /', 'A/A'],
    ['whitespace', 'AA AA'],
    ['an impossible length', 'AAAAA'],
    ['non-zero unused bits (2 chars)', 'AB'],
    ['non-zero unused bits (3 chars)', 'AAB'],
  ])('refuses %s', (_name, s) => {
    expect(isCanonicalBase64url(s)).toBe(false);
    expect(decodeBase64urlStrict(s)).toBeUndefined();
  });
});

describe('strict UTF-8 and JSON', () => {
  it('refuses invalid UTF-8 and keeps a BOM for JSON to refuse', () => {
    expect(decodeUtf8Strict(new Uint8Array([0xc3, 0x28]))).toBeUndefined();
    expect(decodeUtf8Strict(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe('\uFEFF{}');
    expect(parseJsonStrict('\uFEFF{}').ok).toBe(false);
  });

  it.each([
    ['a top-level duplicate', '{"a":1,"a":2}'],
    ['a nested duplicate', '{"x":{"a":1,"b":[{"c":1,"c":1}]}}'],
    ['a duplicate spelled with an escape', '{"a":1,"\\u0061":2}'],
  ])('refuses %s', (_name, text) => {
    expect(parseJsonStrict(text)).toEqual({ ok: false, reason: 'duplicate object key' });
  });

  it.each([
    ['equal keys in sibling objects', '[{"a":1},{"a":2}]'],
    ['a value equal to a key', '{"a":"a","b":"a"}'],
    ['escaped quotes in strings', '{"a":"x\\"y","b":"\\\\"}'],
  ])('accepts %s', (_name, text) => {
    expect(parseJsonStrict(text)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it('agrees with JSON.parse on any document without duplicates (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(parseJsonStrict(text)).toEqual({ ok: true, value: JSON.parse(text) });
      }),
    );
  });
});

describe('trace ids', () => {
  it('are 32 lower-case hex digits and differ', () => {
    const a = newTraceId();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newTraceId()).not.toBe(a);
  });
});
