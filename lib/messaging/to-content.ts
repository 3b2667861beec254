// The background-to-content messages (bg-cs): each payload's shape, and the receiving side's check of
// the sender (the background only) and the payload. Checked by hand, not with zod, so that a content
// script carries only these few lines; the message map (contract.ts) checks with the same shapes.
// Runtime-neutral, pure.
import { isBackground } from './senders';
import type { SenderFacts } from './senders';

/** The held action's approvals (one, or every one a quorum needs, in order): the hooks send the request with them all. */
export interface ReleaseData {
  actionId: string;
  tokens: string[];
}

/** A held action that ended without release: the hooks answer the page with why. */
export interface SettleData {
  actionId: string;
  outcome: 'rejected' | 'expired' | 'blocked' | 'failed';
  message: string;
}

/** A list of strings: at least one, at most `items`, each of at most `each` characters. */
interface ListOf {
  readonly items: number;
  readonly each: number;
}

/** A payload's shape: each member a string, of at most this length, or one of these; or a list of strings. */
type Shape<T> = { readonly [K in keyof T]-?: T[K] extends readonly string[] ? ListOf : number | readonly string[] };

/**
 * The bg-cs payloads' shapes, by message; the message map's bg-cs rows check with them and name the
 * one sender (the background). The token's bound is LIMITS.token and the number of tokens
 * QUORUM_LIMITS.maxApprovers (lib/protocol, not imported: it brings zod); a settlement's message is at most a rejection's preface and the owner's
 * reason (500).
 */
export const TO_CONTENT = {
  'bg-cs:release': { actionId: Infinity, tokens: { items: 5, each: 8192 } } satisfies Shape<ReleaseData>,
  'bg-cs:settle': { actionId: Infinity, outcome: ['rejected', 'expired', 'blocked', 'failed'] satisfies Array<SettleData['outcome']>, message: 1024 } satisfies Shape<SettleData>,
} as const;

export type ToContentType = keyof typeof TO_CONTENT;
export type ToContentData<T extends ToContentType> = { 'bg-cs:release': ReleaseData; 'bg-cs:settle': SettleData }[T];

/** A copy of the payload if it has exactly the row's members (as zod's strictObject) and each fits, else null. */
export function parseToContent<T extends ToContentType>(type: T, data: unknown): ToContentData<T> | null {
  const shape: Record<string, number | readonly string[] | ListOf> = TO_CONTENT[type];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  // As many members as the shape, each one of its own (an array's indexes, `__proto__`, are not).
  const members = Object.entries(data);
  if (members.length !== Object.keys(shape).length) return null;
  const copy: Array<[string, string | string[]]> = [];
  for (const [key, value] of members) {
    const fits = Object.hasOwn(shape, key) ? shape[key]! : null;
    if (fits === null) return null;
    if (typeof fits === 'number' || Array.isArray(fits)) {
      if (typeof value !== 'string' || (typeof fits === 'number' ? value.length > fits : !fits.includes(value))) return null;
      copy.push([key, value]);
    } else {
      const list = fits as ListOf;
      if (!Array.isArray(value) || value.length < 1 || value.length > list.items) return null;
      if (!value.every((v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= list.each)) return null;
      copy.push([key, [...(value as string[])]]);
    }
  }
  return Object.fromEntries(copy) as unknown as ToContentData<T>;
}

/**
 * A content script's check of a message from the background: the sender as the browser stamped it
 * (the one sender of every bg-cs row in the message map: isBackground), then the payload. The parsed
 * payload, or null.
 */
export function acceptFromBackground<T extends ToContentType>(type: T, data: unknown, sender: SenderFacts, self: { id: string; origin: string }): ToContentData<T> | null {
  return isBackground(sender, self.id, self.origin) ? parseToContent(type, data) : null;
}
