// The canonical action and its digest, identical in extension and middleware (DESIGN.md). Runtime-neutral.
import canonicalize from 'canonicalize';
import { PayloadInvalid } from './errors';
import { decodeUtf8Strict, sha256Base64url, utf8 } from './encoding';
import { parseJsonStrict } from './strict-json';

/** The form field that carries an approval token; never part of the digest. */
export const APPROVAL_FIELD = 'countersign_approval';

/** The request as the digest sees it; `body` may be raw bytes on the server side. */
export interface DigestInput {
  method: string;
  url: string;
  contentType: string | null;
  body: string | Uint8Array | null;
}

export type CanonicalBody =
  | null
  | { form: Array<[string, string]> }
  | { text: string }
  | { sha256: string }
  | JsonValue;

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface CanonicalAction {
  v: 1;
  method: string;
  url: string;
  body: CanonicalBody;
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | null): string | null {
  if (contentType === null) return null;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === '' ? null : type;
}

export function isJsonMediaType(type: string | null): boolean {
  return type === 'application/json' || (type !== null && /^[a-z0-9.+-]+\/[a-z0-9.+-]+\+json$/.test(type));
}

/** WHATWG href without the fragment; throws `payload_invalid` for a relative or invalid URL. */
export function canonicalUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PayloadInvalid('not an absolute URL', 'request.url');
  }
  parsed.hash = '';
  return parsed.href;
}

export async function canonicalAction(input: DigestInput): Promise<CanonicalAction> {
  return {
    v: 1,
    method: input.method.toUpperCase(),
    url: canonicalUrl(input.url),
    body: await canonicalBody(input.contentType, input.body),
  };
}

/** base64url(SHA-256(UTF-8(RFC 8785 JSON of the canonical action))). */
export async function actionDigest(input: DigestInput): Promise<string> {
  return sha256Base64url(canonicalJson(await canonicalAction(input)));
}

/** RFC 8785 (JCS) serialisation through the `canonicalize` library. */
export function canonicalJson(value: unknown): string {
  const json = canonicalize(value);
  if (json === undefined) throw new TypeError('value has no JSON form');
  return json;
}

async function canonicalBody(contentType: string | null, body: string | Uint8Array | null): Promise<CanonicalBody> {
  if (body === null) return null;
  const type = mediaType(contentType);
  if (isJsonMediaType(type)) {
    const parsed = parseJsonStrict(bodyText(body));
    if (!parsed.ok) throw new PayloadInvalid(`JSON body is ${parsed.reason}`, 'request.body');
    return parsed.value as JsonValue;
  }
  if (type === 'application/x-www-form-urlencoded') {
    return formBody(new URLSearchParams(bodyText(body)));
  }
  if (type === 'multipart/form-data') {
    return multipartBody(contentType!, body);
  }
  if (type?.startsWith('text/')) {
    return { text: bodyText(body) };
  }
  if (type === null && body.length === 0) return null;
  return { sha256: await sha256Base64url(typeof body === 'string' ? utf8(body) : body) };
}

function bodyText(body: string | Uint8Array): string {
  if (typeof body === 'string') return body;
  const text = decodeUtf8Strict(body);
  if (text === undefined) throw new PayloadInvalid('body is not valid UTF-8', 'request.body');
  return text;
}

function formBody(entries: Iterable<[string, string]>): { form: Array<[string, string]> } {
  const form: Array<[string, string]> = [];
  // In the order sent: tools read the first (or the last) of a repeated field, so order is meaning.
  for (const [name, value] of entries) if (name !== APPROVAL_FIELD) form.push([name, value]);
  return { form };
}

/** Multipart without files is a form; with a file it is opaque bytes. */
async function multipartBody(contentType: string, body: string | Uint8Array): Promise<CanonicalBody> {
  const bytes = typeof body === 'string' ? utf8(body) : body;
  let data: FormData;
  try {
    data = await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new PayloadInvalid('multipart body does not parse', 'request.body');
  }
  const entries: Array<[string, string]> = [];
  for (const [name, value] of data.entries()) {
    if (typeof value !== 'string') return { sha256: await sha256Base64url(bytes) };
    entries.push([name, value]);
  }
  return formBody(entries);
}
