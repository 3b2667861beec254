// How a request body's fields are read: the one rule for the page hooks, the background, the popup,
// the middleware and the verifier. A site adapter's or route's `content` is a field name (a form
// field, or a JSON body's top-level member) or a JSON pointer; a marker field matches any of its
// values. Runtime-neutral, pure.
import { APPROVAL_FIELD, isJsonMediaType, mediaType } from './digest';
import { decodeUtf8Strict, utf8 } from './encoding';
import { PayloadInvalid } from './errors';
import { parseJsonStrict } from './strict-json';

export { APPROVAL_FIELD };

/** The request header that carries an approval token on fetch and XHR requests (HTTP header names are case-insensitive). */
export const APPROVAL_HEADER = 'Countersign-Approval';

/** A request body as every part of Countersign reads it. */
export type BodyFields =
  | { kind: 'none' }
  /** A JSON body (strictly parsed: one value per member name); `pairs` are a top-level object's string members. */
  | { kind: 'json'; value: unknown; pairs: Array<[string, string]> }
  /** A urlencoded form, or a multipart form without files: every pair in the order sent. */
  | { kind: 'form'; pairs: Array<[string, string]> }
  /** Anything else: no fields (text, bytes, multipart with files). */
  | { kind: 'other' }
  /** A body that claims JSON, form or UTF-8 and is not: never approvable, never read for fields. */
  | { kind: 'invalid'; reason: string };

function jsonFields(text: string): BodyFields {
  const parsed = parseJsonStrict(text);
  if (!parsed.ok) return { kind: 'invalid', reason: `JSON body is ${parsed.reason}` };
  const pairs: Array<[string, string]> = [];
  const value = parsed.value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') pairs.push([k, v]);
  }
  return { kind: 'json', value, pairs };
}

function formFields(text: string): BodyFields {
  return { kind: 'form', pairs: [...new URLSearchParams(text)] };
}

function asText(body: string | Uint8Array): string | undefined {
  return typeof body === 'string' ? body : decodeUtf8Strict(body);
}

/** Reads a JSON or urlencoded body synchronously; a multipart body is `other` here (see readBodyFields). */
export function readTextBodyFields(contentType: string | null, body: string | Uint8Array | null): BodyFields {
  const type = mediaType(contentType);
  // As the digest reads it: an empty body that claims JSON is not JSON, so it is never approvable.
  if (body !== null && body.length === 0 && isJsonMediaType(type)) return { kind: 'invalid', reason: 'JSON body is empty' };
  if (body === null || body.length === 0) return { kind: 'none' };
  if (isJsonMediaType(type) || type === 'application/x-www-form-urlencoded') {
    const text = asText(body);
    if (text === undefined) return { kind: 'invalid', reason: 'body is not valid UTF-8' };
    return isJsonMediaType(type) ? jsonFields(text) : formFields(text);
  }
  return { kind: 'other' };
}

/** Reads any body, multipart included (a multipart form without files is a form; with a file it has no fields). */
export async function readBodyFields(contentType: string | null, body: string | Uint8Array | null): Promise<BodyFields> {
  // An empty multipart body goes through the parser too: the digest reads it the same way.
  if (body === null || mediaType(contentType) !== 'multipart/form-data') return readTextBodyFields(contentType, body);
  const bytes = typeof body === 'string' ? utf8(body) : body;
  let data: FormData;
  try {
    data = await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentType! } }).formData();
  } catch {
    return { kind: 'invalid', reason: 'multipart body does not parse' };
  }
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of data.entries()) {
    if (typeof value !== 'string') return { kind: 'other' };
    pairs.push([name, value]);
  }
  return { kind: 'form', pairs };
}

/** Every value of a top-level field, in order (a JSON member has at most one). */
export function fieldValues(fields: BodyFields, name: string): string[] {
  if (fields.kind !== 'json' && fields.kind !== 'form') return [];
  return fields.pairs.filter(([k]) => k === name).map(([, v]) => v);
}

/** True when any value of `name` is `value`: a marker field counts wherever it appears. */
export function hasFieldValue(fields: BodyFields, name: string, value: string): boolean {
  return fieldValues(fields, name).includes(value);
}

/**
 * The steps of a content location: a JSON pointer's reference tokens (RFC 6901, `~1` and `~0`
 * decoded), or a plain field name as its one step; null for a malformed pointer.
 */
export function contentSteps(where: string): string[] | null {
  if (!where.startsWith('/')) return [where];
  if (/~[^01]|~$/.test(where)) return null;
  return where
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function walk(value: unknown, steps: readonly string[]): unknown {
  let node = value;
  for (const key of steps) {
    if (node === null || typeof node !== 'object') return undefined;
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= node.length) return undefined;
      node = node[Number(key)];
    } else {
      if (!Object.hasOwn(node, key)) return undefined;
      node = (node as Record<string, unknown>)[key];
    }
  }
  return node;
}

/** RFC 6901: the value at `pointer`, or undefined when there is none (or the pointer is malformed). */
export function jsonPointer(value: unknown, pointer: string): unknown {
  if (pointer === '') return value;
  if (!pointer.startsWith('/')) return undefined;
  const steps = contentSteps(pointer);
  return steps === null ? undefined : walk(value, steps);
}

/**
 * The post's text at `where`: a JSON pointer (`/body`, `/post/text`) or a field name (`body`). On a
 * form a one-step pointer names the field. Null when the body has no string there. A form field that
 * appears more than once is ambiguous — a tool reads the first or the last — so it is refused
 * (`payload_invalid`), never guessed.
 */
export function contentAt(fields: BodyFields, where: string): string | null {
  const steps = contentSteps(where);
  if (steps === null) return null;
  if (fields.kind === 'json') {
    const found = walk(fields.value, steps);
    return typeof found === 'string' ? found : null;
  }
  if (fields.kind !== 'form' || steps.length !== 1) return null;
  const name = steps[0]!;
  const values = fieldValues(fields, name);
  if (values.length > 1) throw new PayloadInvalid(`the content field ${name} appears ${values.length} times`, 'request.body');
  return values[0] ?? null;
}

/** A form's pairs as a handler reads them: one value a string, a repeated field every value in order (no prototype, so any name is safe). */
export function formObject(pairs: ReadonlyArray<readonly [string, string]>, omit: readonly string[] = [APPROVAL_FIELD]): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of pairs) {
    if (omit.includes(name)) continue;
    const had = out[name];
    out[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return out;
}
