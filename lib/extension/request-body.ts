// How the extension reads a request body's fields — the page hooks (post text, markers), the bridge
// (a config change's "after" side), the background's proposal check and the popup all read it the same
// way, as the middleware does. Runtime-neutral, pure.

/** A JSON body's top-level object, or null when the text is not a JSON object. */
function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The body's top-level fields in order: a JSON object's members or a urlencoded form's pairs; null for any other body. */
export function bodyEntries(contentType: string | null, body: string | null): Array<[string, unknown]> | null {
  if (body === null) return null;
  if (contentType?.includes('json')) {
    const object = jsonObject(body);
    return object && Object.entries(object);
  }
  if (contentType?.includes('x-www-form-urlencoded')) return [...new URLSearchParams(body)];
  return null;
}

/** The body's string fields as the page hooks and the middleware read them: a JSON object's top-level strings, or a form's first value per name. */
export function bodyFields(contentType: string | null, body: string | null): Map<string, string> {
  const fields = new Map<string, string>();
  for (const [k, v] of bodyEntries(contentType, body) ?? []) if (typeof v === 'string' && !fields.has(k)) fields.set(k, v);
  return fields;
}

/** The body as a config change's "after" side: a JSON object, or a form (last value per name); null when it is neither. */
export function afterSide(contentType: string | null, body: string): Record<string, unknown> | null {
  if (contentType?.includes('json')) return jsonObject(body);
  return Object.fromEntries(new URLSearchParams(body));
}

/**
 * The body's top-level fields other than the post text itself, for the owner to see beside it: what else
 * the signed request carries. A body that is neither a JSON object nor a form is returned whole as `body`.
 */
export function otherFields(contentType: string | null, body: string | null, text: string): Array<[string, unknown]> {
  if (body === null) return [];
  const entries = bodyEntries(contentType, body);
  if (!entries) return [['body', body]];
  const at = entries.findIndex(([, v]) => v === text);
  return at < 0 ? entries : entries.filter((_, i) => i !== at);
}
