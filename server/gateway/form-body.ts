// The form bodies the gateway forwards to a tool that parses them itself: a second parser the
// gateway does not control (PHP's, in MediaWiki). So a form body is forwarded only in the plain shape
// that browsers and HTTP clients send, where every parser reads the same fields, and the approval
// field is cut out byte for byte, every other byte left as it was digested. Pure.
import { APPROVAL_FIELD, decodeUtf8Strict, mediaType } from '../../lib/protocol';

const CRLF = '\r\n';
const encoder = new TextEncoder();

/** A form body's fields as the tool will read them: text pairs in order, and whether it carries files. */
export interface FormReading {
  pairs: Array<[string, string]>;
  files: number;
}

type Part = { start: number; end: number; name: string; file: boolean; value: Uint8Array };

/**
 * How a lenient parser classifies the body (PHP: lower case, up to the first `;`, `,` or space): a
 * Content-Type that it reads as a form while the protocol does not (or the other way round) would
 * give the tool fields the gateway never matched.
 */
export function contentTypesAgree(contentType: string | null): boolean {
  if (contentType === null) return true;
  const lenient = contentType.toLowerCase().split(/[;,\s]/, 1)[0]!;
  const strict = mediaType(contentType);
  const isForm = (t: string | null | undefined) => t === 'application/x-www-form-urlencoded' || t === 'multipart/form-data';
  return isForm(lenient) === isForm(strict) && (!isForm(lenient) || lenient === strict);
}

/** The boundary of a plain `multipart/form-data; boundary=…` Content-Type (no quotes, no other parameters), or null. */
function plainBoundary(contentType: string): string | null {
  const m = /^multipart\/form-data; ?boundary=([0-9A-Za-z'()+_\-.:=]{1,70})$/i.exec(contentType);
  return m ? m[1]! : null;
}

function indexOf(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  for (let i = bytes.indexOf(first, from); i !== -1 && i <= bytes.length - needle.length; i = bytes.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && bytes[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

const DISPOSITION = /^content-disposition: ?form-data; ?name="([^"\r\n]*)"(?:; ?filename="([^"\r\n]*)")?$/i;
const PART_TYPE = /^content-type: ?[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:; ?charset="?[A-Za-z0-9_-]+"?)?$/i;

/**
 * The parts of a multipart body in the plain shape: `--b CRLF`, each part's headers (exactly one
 * `Content-Disposition: form-data; name="…"`, with `filename` for a file, and at most one
 * `Content-Type`), `CRLF CRLF`, the value, `CRLF --b`, … `--b--` and an optional CRLF: no preamble,
 * no epilogue, no other part headers. Null for anything else.
 */
function plainParts(boundary: string, body: Uint8Array): Part[] | null {
  const opening = encoder.encode(`--${boundary}${CRLF}`);
  const delimiter = encoder.encode(`${CRLF}--${boundary}`);
  const headerEnd = encoder.encode(CRLF + CRLF);
  for (let i = 0; i < opening.length; i++) if (body[i] !== opening[i]) return null;
  const parts: Part[] = [];
  let start = 0;
  let cursor = opening.length;
  for (;;) {
    const end = indexOf(body, delimiter, cursor);
    if (end === -1) return null;
    const headersAt = indexOf(body, headerEnd, cursor);
    if (headersAt === -1 || headersAt > end) return null;
    const headers = decodeUtf8Strict(body.subarray(cursor, headersAt));
    if (headers === undefined) return null;
    const lines = headers.split(CRLF);
    const disposition = lines.map((l) => DISPOSITION.exec(l)).filter((m) => m !== null);
    if (disposition.length !== 1 || lines.length > 2) return null;
    if (lines.some((l) => !DISPOSITION.test(l) && !PART_TYPE.test(l))) return null;
    const [, name, filename] = disposition[0]!;
    parts.push({ start, end, name: name!, file: filename !== undefined, value: body.subarray(headersAt + headerEnd.length, end) });
    const after = end + delimiter.length;
    if (body[after] === 0x2d && body[after + 1] === 0x2d) {
      const rest = body.length - (after + 2);
      if (rest === 0 || (rest === 2 && body[after + 2] === 0x0d && body[after + 3] === 0x0a)) return parts;
      return null;
    }
    if (body[after] !== 0x0d || body[after + 1] !== 0x0a) return null;
    start = end;
    cursor = after + 2;
  }
}

/**
 * Reads a form body the way the tool will, or null when it is not a form body in the plain shape (a
 * multipart body with an odd boundary, part headers, preamble or epilogue; or text that is not UTF-8).
 */
export function readForm(contentType: string, body: Uint8Array): FormReading | null {
  const type = mediaType(contentType);
  if (type === 'application/x-www-form-urlencoded') {
    const text = decodeUtf8Strict(body);
    return text === undefined ? null : { pairs: [...new URLSearchParams(text)], files: 0 };
  }
  if (type !== 'multipart/form-data') return null;
  const boundary = plainBoundary(contentType);
  const parts = boundary === null ? null : plainParts(boundary, body);
  if (parts === null) return null;
  const pairs: Array<[string, string]> = [];
  let files = 0;
  for (const part of parts) {
    if (part.file) {
      files++;
      continue;
    }
    const value = decodeUtf8Strict(part.value);
    if (value === undefined) return null;
    pairs.push([part.name, value]);
  }
  return { pairs, files };
}

/** The body with every approval field cut out, each other byte as it was; the same bytes when there is none. */
export function withoutApprovalField(contentType: string, body: Uint8Array): Uint8Array {
  const type = mediaType(contentType);
  if (type === 'application/x-www-form-urlencoded') {
    const text = decodeUtf8Strict(body);
    if (text === undefined) return body;
    const kept = text.split('&').filter((segment) => {
      const name = segment.split('=', 1)[0]!;
      return [...new URLSearchParams(`${name}=`).keys()][0] !== APPROVAL_FIELD;
    });
    return kept.length === text.split('&').length ? body : encoder.encode(kept.join('&'));
  }
  const boundary = type === 'multipart/form-data' ? plainBoundary(contentType) : null;
  const parts = boundary === null ? null : plainParts(boundary, body);
  if (parts === null || !parts.some((p) => p.name === APPROVAL_FIELD && !p.file)) return body;
  const chunks: Uint8Array[] = [];
  let from = 0;
  // Until a part is kept, a cut part takes its own delimiter and leaves the next one's, so the body
  // still starts with `--b CRLF` however many approvals (a quorum's) came first.
  let leading = true;
  for (const [i, part] of parts.entries()) {
    if (part.name !== APPROVAL_FIELD || part.file) {
      leading = false;
      continue;
    }
    // The first part begins at `--b CRLF`; a later one at the `CRLF --b CRLF` before it.
    if (leading) {
      const next = parts[i + 1];
      chunks.push(body.subarray(from, i === 0 ? part.start : part.start + CRLF.length));
      from = next ? next.start + CRLF.length : part.end + CRLF.length;
    } else {
      chunks.push(body.subarray(from, part.start));
      from = part.end;
    }
  }
  chunks.push(body.subarray(from));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
