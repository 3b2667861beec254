// The extension's one error family: ExtensionError with a typed code (the protocol's codes plus the
// extension's own), and the Reply every message answers with. Runtime-neutral, shared by every context.
import { ERROR_STATUS } from '../protocol/errors';
import type { ErrorCode } from '../protocol/errors';

/** Codes only the extension answers with, beside DESIGN.md's (lib/protocol/errors.ts). */
export const EXTENSION_ERROR_CODES = [
  'sender_refused',
  'not_enrolled',
  'not_pending',
  'not_protected',
  'action_unknown',
  'expired',
  'policy_invalid',
  'internal',
] as const;

export type ExtensionErrorCode = ErrorCode | (typeof EXTENSION_ERROR_CODES)[number];

export function isExtensionErrorCode(value: unknown): value is ExtensionErrorCode {
  return typeof value === 'string' && (Object.hasOwn(ERROR_STATUS, value) || (EXTENSION_ERROR_CODES as readonly string[]).includes(value));
}

/** Every extension failure a person or a caller may see: a stable code and a message safe to show. */
export class ExtensionError extends Error {
  constructor(
    readonly code: ExtensionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExtensionError';
  }
}

/** A reply across messaging: a value, or an error's code and message (errors do not cross as classes). */
export type Reply<T> = { ok: true; value: T } | { ok: false; code: ExtensionErrorCode; message: string };
