// Strict JSON parsing for untrusted input: one parse, no duplicate keys, no BOM. Runtime-neutral.
// Duplicate keys are refused rather than resolved "last wins", so that no two components can read
// one document two ways (RFC 7515 §4, RFC 8785's I-JSON, SECURITY-CASES J-12).

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * Deepest nesting accepted. Schema checks (zod's z.json()) and RFC 8785 canonicalisation recurse, so an
 * unbounded depth from an untrusted document could exhaust the stack (a 5xx) instead of being refused.
 */
export const MAX_JSON_DEPTH = 256;

export function parseJsonStrict(text: string): JsonParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, reason: 'byte order mark' };
  const problem = scanObjects(text);
  if (problem) return { ok: false, reason: problem };
  return { ok: true, value };
}

/**
 * Scans text that JSON.parse already accepted and reports whether any object repeats a key, or the
 * nesting goes deeper than MAX_JSON_DEPTH. Keys are compared after unescaping, so `"a"` and `"\u0061"` collide.
 */
function scanObjects(text: string): string | undefined {
  const objects: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const keys = objects[objects.length - 1];
      if (keys && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return 'duplicate object key';
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      objects.push(new Set());
      if (objects.length > MAX_JSON_DEPTH) return 'nested too deeply';
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      objects.push(null);
      if (objects.length > MAX_JSON_DEPTH) return 'nested too deeply';
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      objects.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = objects[objects.length - 1] instanceof Set;
    }
  }
  return undefined;
}
