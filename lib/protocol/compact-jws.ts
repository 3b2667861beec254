// Strict compact JWS: size cap, canonical segments, header allow-list, ES256 signing and checking.
// Shared by approval tokens, receipts and log batches, each with its own `typ`. Runtime-neutral.
import { TokenRejected } from './errors';
import { protocolCrypto } from './crypto-backend';
import { decodeBase64urlStrict, decodeUtf8Strict, encodeBase64url, utf8 } from './encoding';
import { verifyEs256 } from './es256';
import { parseJsonStrict } from './strict-json';

/** A token larger than this is refused before it is split or decoded (SECURITY-CASES J-10). */
export const MAX_TOKEN_BYTES = 8 * 1024;

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const KID = /^[A-Za-z0-9_-]{1,128}$/;

export const JWS_TYP = {
  approval: 'countersign-approval+jwt',
  receipt: 'countersign-receipt+jwt',
  log: 'countersign-log+jwt',
  device: 'countersign-device+jwt',
} as const;
export type JwsTyp = (typeof JWS_TYP)[keyof typeof JWS_TYP];

export interface ProtectedHeader {
  alg: 'ES256';
  typ: JwsTyp;
  kid: string;
}

/** A compact JWS that passed the structural and header checks; its signature is not checked yet. */
export interface ParsedJws {
  header: ProtectedHeader;
  /** The payload, parsed as strict JSON; always a plain object. */
  payload: Record<string, unknown>;
  signingInput: Uint8Array;
  signature: Uint8Array;
}

/** A compact JWS split strictly: header parsed, payload still bytes, nothing checked but form. */
export interface SplitJws {
  header: Record<string, unknown>;
  payloadBytes: Uint8Array;
  signingInput: Uint8Array;
  signature: Uint8Array;
}

/**
 * Strict compact form, before anything is trusted: size cap first, then exactly three canonical
 * base64url segments (no padding, whitespace or non-zero unused bits), the header a strict UTF-8
 * JSON object (no duplicate members, no BOM).
 */
export function splitCompactJws(token: unknown, maxBytes: number = MAX_TOKEN_BYTES): SplitJws {
  if (typeof token !== 'string' || token.length === 0) throw new TokenRejected('token_missing', 'no token');
  if (token.length > maxBytes) throw new TokenRejected('token_malformed', `token over ${maxBytes} bytes`);
  if (!COMPACT.test(token)) throw new TokenRejected('token_malformed', 'not three base64url segments');
  const [h, p, s] = token.split('.') as [string, string, string];
  const headerBytes = decodeBase64urlStrict(h);
  const payloadBytes = decodeBase64urlStrict(p);
  const signature = decodeBase64urlStrict(s);
  if (!headerBytes || !payloadBytes || !signature) {
    throw new TokenRejected('token_malformed', 'a segment is not canonical base64url');
  }
  return { header: decodeJsonObject(headerBytes, 'header'), payloadBytes, signingInput: utf8(`${h}.${p}`), signature };
}

/**
 * Checks, in DESIGN.md's order: strict compact form (splitCompactJws), the payload a strict JSON
 * object, then the header: `alg` exactly ES256, `typ` exactly `typ`, no member but `alg`, `typ`
 * and `kid`, and `kid` a plain key id.
 */
export function parseCompactJws(token: unknown, typ: JwsTyp, maxBytes: number = MAX_TOKEN_BYTES): ParsedJws {
  const { header, payloadBytes, signingInput, signature } = splitCompactJws(token, maxBytes);
  const payload = decodeJsonObject(payloadBytes, 'payload');
  checkProtectedHeader(header, typ);
  return { header: { alg: 'ES256', typ, kid: header.kid as string }, payload, signingInput, signature };
}

/** The header allow-list; `typ` null is only for vectors that carry none (tests). */
export function checkProtectedHeader(header: Record<string, unknown>, typ: JwsTyp | null): void {
  if (header.alg !== 'ES256') throw new TokenRejected('alg_not_allowed', 'only ES256 is allowed');
  if (typ !== null && header.typ !== typ) throw new TokenRejected('typ_invalid', `typ must be ${typ}`);
  for (const name of Object.keys(header)) {
    if (name !== 'alg' && name !== 'kid' && (name !== 'typ' || typ === null)) {
      throw new TokenRejected('header_not_allowed', `header member not allowed: ${safeName(name)}`);
    }
  }
  if (typeof header.kid !== 'string' || !KID.test(header.kid)) {
    throw new TokenRejected('key_unknown', 'kid missing or not a key id');
  }
}

/** Throws `signature_invalid` unless `key` verifies the JWS (the Wycheproof-tested check). */
export async function assertJwsSignature(jws: ParsedJws, key: CryptoKey): Promise<void> {
  if (!(await verifyEs256(key, jws.signingInput, jws.signature))) {
    throw new TokenRejected('signature_invalid', 'signature does not verify');
  }
}

/**
 * Signs a compact JWS (RFC 7515 §7.1) under the protected header `{alg: ES256, typ, kid}`, with the
 * installed backend (protocolCrypto): base64url(header).base64url(payload).base64url(P1363 signature).
 */
export async function signCompactJws(
  privateKey: CryptoKey,
  header: { typ: JwsTyp; kid: string },
  payload: unknown,
): Promise<string> {
  const signingInput = `${encodeBase64url(utf8(JSON.stringify({ alg: 'ES256', typ: header.typ, kid: header.kid })))}.${encodeBase64url(utf8(JSON.stringify(payload)))}`;
  const signature = await protocolCrypto().signEs256(privateKey, utf8(signingInput));
  return `${signingInput}.${encodeBase64url(signature)}`;
}

function decodeJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  const text = decodeUtf8Strict(bytes);
  if (text === undefined) throw new TokenRejected('token_malformed', `${what} is not UTF-8`);
  const parsed = parseJsonStrict(text);
  if (!parsed.ok) throw new TokenRejected('token_malformed', `${what} is ${parsed.reason}`);
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenRejected('token_malformed', `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** A header name fit for an error message: printable, short. */
function safeName(name: string): string {
  return JSON.stringify(name.length > 32 ? `${name.slice(0, 32)}…` : name);
}
