// Byte encodings the protocol relies on: strict base64url, strict UTF-8 JSON, SHA-256. Runtime-neutral.
import { protocolCrypto } from './crypto-backend';

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * True when `s` is the one canonical unpadded base64url spelling of its bytes: only the URL-safe
 * alphabet, no padding or whitespace, a possible length, and zero unused low bits in the last
 * character. Lenient decoders accept other spellings of the same bytes (SECURITY-CASES J-11).
 */
export function isCanonicalBase64url(s: string): boolean {
  if (!BASE64URL.test(s)) return false;
  const rest = s.length % 4;
  if (rest === 1) return false;
  if (rest === 0) return true;
  const last = ALPHABET.indexOf(s.charAt(s.length - 1));
  const unusedBits = rest === 2 ? 0b1111 : 0b11;
  return (last & unusedBits) === 0;
}

/** Decodes canonical base64url; returns undefined for any other spelling. */
export function decodeBase64urlStrict(s: string): Uint8Array | undefined {
  if (!isCanonicalBase64url(s)) return undefined;
  return protocolCrypto().base64urlDecode(s);
}

export function encodeBase64url(bytes: Uint8Array | string): string {
  return protocolCrypto().base64urlEncode(typeof bytes === 'string' ? utf8(bytes) : bytes);
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(s: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(s);
}

/** Decodes UTF-8, refusing invalid sequences; a BOM is kept (so strict JSON then refuses it). */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

export async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  return protocolCrypto().sha256(typeof data === 'string' ? utf8(data) : data);
}

export async function sha256Base64url(data: Uint8Array | string): Promise<string> {
  return encodeBase64url(await sha256(data));
}

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  let hex = '';
  for (const b of await sha256(data)) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** `n` random bytes as base64url (128 bits for a `jti`). */
export function randomBase64url(n = 16): string {
  return encodeBase64url(protocolCrypto().randomBytes(n));
}

/** A W3C trace id: 32 lower-case hex digits, not all zero. */
export function newTraceId(): string {
  for (;;) {
    let hex = '';
    for (const b of protocolCrypto().randomBytes(16)) hex += b.toString(16).padStart(2, '0');
    if (!/^0+$/.test(hex)) return hex;
  }
}
