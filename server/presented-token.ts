// What a presented token says about itself before it is verified: its header and payload as JSON
// objects, or empty ones. Only ever evidence (a refusal's record) or a lookup key (which rows one
// verify reads); never trusted. Node only.
import { MAX_TOKEN_BYTES, decodeBase64urlStrict } from '../lib/protocol';

export interface Presented {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

const decoder = new TextDecoder();

function segment(text: string | undefined): Record<string, unknown> {
  const bytes = text ? decodeBase64urlStrict(text) : undefined;
  if (!bytes) return {};
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The token's header and payload, unverified; empty for anything that is not a string within the size cap. */
export function readPresented(token: unknown): Presented {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_BYTES) return { header: {}, claims: {} };
  const [h, p] = token.split('.', 2);
  return { header: segment(h), claims: segment(p) };
}
