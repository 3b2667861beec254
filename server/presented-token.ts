// What a presented token says about itself before it is verified: its header and payload as JSON
// objects, or empty ones. Only ever evidence (a refusal's record) or a lookup key (which rows one
// verify reads); never trusted. Node only.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { MAX_TOKEN_BYTES } from '../lib/protocol';

export interface Presented {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** jose's unverified read, or an empty object where it cannot read one. */
function orEmpty(read: () => object): Record<string, unknown> {
  try {
    return read() as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The token's header and payload, unverified; empty for anything that is not a string within the size cap. */
export function readPresented(token: unknown): Presented {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_BYTES) return { header: {}, claims: {} };
  return { header: orEmpty(() => decodeProtectedHeader(token)), claims: orEmpty(() => decodeJwt(token)) };
}
