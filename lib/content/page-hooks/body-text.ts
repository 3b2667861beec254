// What a fetch or XHR body is as the hooks hold it: text (a string or URLSearchParams), nothing, or
// something the hooks cannot hold (bytes, a stream, multipart FormData). Runtime-neutral, pure.

/** Whether a fetch's init body can be held: none, a string or URLSearchParams (a Request's own body is read as text). */
export function isTextFetchBody(body: BodyInit | null | undefined): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof URLSearchParams;
}

/**
 * A Request's body as text; null for none. Firefox gives a Request no `body` stream (Chrome does, null
 * when there is none), so there the text itself tells: an empty one is none.
 */
export async function requestBodyText(request: Request): Promise<string | null> {
  const stream = (request as Partial<Pick<Request, 'body'>>).body;
  if (stream !== undefined) return stream ? request.clone().text() : null;
  const text = await request.clone().text();
  return text === '' ? null : text;
}

/** An XHR body as text; null for none; undefined for a body the hooks cannot hold. */
export function xhrBodyText(body: Document | XMLHttpRequestBodyInit | null | undefined): string | null | undefined {
  return typeof body === 'string' ? body : body instanceof URLSearchParams ? body.toString() : body == null ? null : undefined;
}

/** The content type an XHR goes out with: the page's header, else the one the browser gives a URLSearchParams or string body. */
export function xhrContentType(header: string | null, body: Document | XMLHttpRequestBodyInit | null | undefined): string | null {
  return header ?? (body instanceof URLSearchParams ? 'application/x-www-form-urlencoded;charset=UTF-8' : typeof body === 'string' ? 'text/plain;charset=UTF-8' : null);
}
