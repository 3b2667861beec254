// What a presented token says about itself before it is verified: its header and payload as JSON
// objects, or empty ones. Only ever evidence (a refusal's record) or a lookup key (which rows one
// verify reads); never trusted. Node only.
import { MAX_TOKEN_BYTES } from '../lib/protocol';

export interface Presented {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** One base64url segment as a JSON object, or an empty object where it is not one (lenient: only evidence). */
function segmentObject(segment: string | undefined): Record<string, unknown> {
  if (!segment) return {};
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The last token read and what it said: one verify reads its token's claims more than once. */
let last: { token: string; presented: Presented } | undefined;

/**
 * The token's header and payload, unverified; empty for anything that is not a string within the size
 * cap, or not three dot-separated segments. Callers must not change what they are handed.
 */
export function readPresented(token: unknown): Presented {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_BYTES) return { header: {}, claims: {} };
  if (last?.token === token) return last.presented;
  const segments = token.split('.');
  const presented = segments.length === 3 ? { header: segmentObject(segments[0]), claims: segmentObject(segments[1]) } : { header: {}, claims: {} };
  last = { token, presented };
  return presented;
}
