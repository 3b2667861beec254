// A proposal must agree with itself: the post text and the diff the owner reviews are read again from
// the request body the token will be bound to, so a page that forges or rewrites its channel messages
// cannot show one text and hold another (E-05). Runtime-neutral, pure.
import type { AdapterAction } from '../protocol';
import type { ProposalInput } from './messages';

/** The body's fields as the page hooks and the middleware read them: a JSON object's top-level strings, or a form's first value per name. */
export function bodyFields(contentType: string | null, body: string | null): Map<string, string> {
  const fields = new Map<string, string>();
  if (body === null) return fields;
  if (contentType?.includes('json')) {
    const value = parseJson(body);
    if (value && typeof value === 'object' && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) if (typeof v === 'string') fields.set(k, v);
  } else if (contentType?.includes('x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body)) if (!fields.has(k)) fields.set(k, v);
  }
  return fields;
}

/** The body as the isolated script reads a config change's "after" side: a JSON object, or a form (last value per name). */
function afterSide(contentType: string | null, body: string): Record<string, unknown> | null {
  if (contentType?.includes('json')) {
    const value = parseJson(body);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  }
  return Object.fromEntries(new URLSearchParams(body));
}

/**
 * The body's top-level fields other than the post text itself, for the owner to see beside it: what else
 * the signed request carries. A body that is neither a JSON object nor a form is returned whole as `body`.
 */
export function otherFields(contentType: string | null, body: string | null, text: string): Array<[string, unknown]> {
  if (body === null) return [];
  let entries: Array<[string, unknown]> | null = null;
  if (contentType?.includes('json')) {
    const value = parseJson(body);
    if (value && typeof value === 'object' && !Array.isArray(value)) entries = Object.entries(value);
  } else if (contentType?.includes('x-www-form-urlencoded')) {
    entries = [...new URLSearchParams(body)];
  }
  if (!entries) return [['body', body]];
  let textSeen = false;
  return entries.filter(([, v]) => {
    if (!textSeen && v === text) return !(textSeen = true);
    return true;
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Why a proposal's text or diff is not what its request body says, or null when they agree. `action`
 * is the adapter action the proposal names (undefined for the generic adapter).
 */
export function proposalMismatch(input: Pick<ProposalInput, 'request' | 'content' | 'diff'>, action: Pick<AdapterAction, 'content'> | undefined): string | null {
  const { contentType, body } = input.request;
  const content = action?.content ? (bodyFields(contentType, body).get(action.content.replace(/^\//, '')) ?? null) : null;
  if (input.content !== content) return 'the post text is not the one in the request body';
  const diff = input.diff;
  if (!diff) return null;
  if (diff.kind === 'text') return content !== null && diff.after === content && diff.before === null ? null : 'the text shown for review is not the one in the request body';
  const after = body === null ? null : afterSide(contentType, body);
  if (!after) return 'a field-by-field diff needs a JSON object or form body';
  const shown = new Map(diff.fields.map((f) => [f.name, f.after]));
  if (shown.size !== diff.fields.length) return 'the diff names a field twice';
  for (const name of Object.keys(after)) if (!shown.has(name)) return `the diff leaves out the field ${name}`;
  for (const [name, value] of shown) if (JSON.stringify(value) !== JSON.stringify(after[name] ?? null)) return `the diff shows another value for ${name} than the request body`;
  return null;
}
