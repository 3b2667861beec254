// How the extension shows and checks a request body's fields, on the protocol's one reader of bodies
// (lib/protocol/request-fields.ts), which the middleware and the verifier use too: the bridge (a config
// change's "after" side), the background's proposal check and the popup all read a body the same way.
// Form pairs keep their order and every value of a repeated field. Runtime-neutral, pure; imports the
// protocol module itself, not its index, to keep the content scripts' bundles small.
import { contentAt, contentSteps, readTextBodyFields } from '../protocol/request-fields';

/** A JSON value, as a diff's before and after sides hold them. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One row of a config change's diff: a field's value before and after (a repeated field has a row per value). */
export interface FieldRow {
  name: string;
  before: Json;
  after: Json;
}

function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The body's top-level fields in the order sent: a JSON object's members, or every pair of a form (a
 * repeated field once per value, in order); null for any other body, and for one that claims JSON or
 * a form and is not (strict JSON: a duplicate member is no object).
 */
export function bodyPairs(contentType: string | null, body: string | null): Array<[string, Json]> | null {
  const fields = readTextBodyFields(contentType, body);
  if (fields.kind === 'form') return fields.pairs;
  if (fields.kind === 'json' && isObject(fields.value)) return Object.entries(fields.value);
  return null;
}

/**
 * The post's text at an action's `content` (a field name or a JSON pointer), as the middleware and the
 * verifier read it; null when there is none. Throws PayloadInvalid for a form field sent more than once
 * (a tool reads the first or the last: which one the owner would review is a guess).
 */
export function postText(contentType: string | null, body: string | null, content: string): string | null {
  return contentAt(readTextBodyFields(contentType, body), content);
}

/**
 * A config change's rows: every field of either side in order of first appearance, and for a field
 * with several values one row per value, the n-th value before beside the n-th after (null where a
 * side has fewer). So the owner sees `tag=a&tag=b` as two rows, in the order the tool receives them.
 */
export function fieldRows(before: ReadonlyArray<readonly [string, Json]>, after: ReadonlyArray<readonly [string, Json]>): FieldRow[] {
  const names = [...new Set([...before.map(([n]) => n), ...after.map(([n]) => n)])];
  return names.flatMap((name) => {
    const b = before.filter(([n]) => n === name).map(([, v]) => v);
    const a = after.filter(([n]) => n === name).map(([, v]) => v);
    return Array.from({ length: Math.max(b.length, a.length) }, (_, i) => ({ name, before: b[i] ?? null, after: a[i] ?? null }));
  });
}

/** A copy of `value` without the member at `path` (the post text), so the rest can be shown beside it. */
function without(value: Json, path: string[]): Json {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (Array.isArray(value)) return value.flatMap((v, i) => (String(i) === head ? (rest.length ? [without(v, rest)] : []) : [v]));
  if (!isObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k !== head) out[k] = v;
    else if (rest.length) out[k] = without(v, rest);
  }
  return out;
}

/**
 * The body's top-level fields other than the post text itself, for the owner to see beside it: what
 * else the signed request carries, every value of a repeated field in order. `content` is the action's
 * content location; for a record without one, the first field whose value is the text is the post.
 * A body that is neither a JSON object nor a form is returned whole as `body`.
 */
export function otherFields(contentType: string | null, body: string | null, text: string, content?: string): Array<[string, Json]> {
  if (body === null) return [];
  const pairs = bodyPairs(contentType, body);
  if (!pairs) return [['body', body]];
  if (content === undefined) {
    const at = pairs.findIndex(([, v]) => v === text);
    return at < 0 ? pairs : pairs.filter((_, i) => i !== at);
  }
  const [head, ...rest] = contentSteps(content) ?? [];
  return pairs.flatMap(([name, value]): Array<[string, Json]> => (name !== head ? [[name, value]] : rest.length ? [[name, without(value, rest)]] : []));
}
