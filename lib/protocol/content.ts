// Normalised post text and its digest (`cdg`), as receipts bind it (DESIGN.md). Runtime-neutral.
import { sha256Base64url } from './encoding';

/** NFC, runs of JavaScript `\s` collapsed to one space, trimmed. */
export function normaliseContent(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** base64url SHA-256 of the normalised text. */
export function contentDigest(text: string): Promise<string> {
  return sha256Base64url(normaliseContent(text));
}
