// The background's message router: each message's sender checked against the message map, its
// payload parsed with its schema, then handed to its handler, whose value is checked against the
// message's answer schema before it is sent; failures answer a stable code. Background only.
import { browser } from 'wxt/browser';
import { MESSAGES, TO_BACKGROUND } from '../messaging/contract';
import type { AnswerOf, InputOf, Reply, ToBackgroundType } from '../messaging/contract';
import { messenger } from '../messaging/messenger';
import { classifySender } from '../messaging/senders';
import { ExtensionError, isExtensionErrorCode } from '../messaging/errors';
import type { SenderFacts } from '../messaging/senders';

export { messenger } from '../messaging/messenger';

export type Handler<T extends ToBackgroundType> = (data: InputOf<T>, sender: SenderFacts) => Promise<AnswerOf<T>> | AnswerOf<T>;

/**
 * Checks one message: sender first (so a refused sender learns nothing about the payload's
 * validity), then the payload; then the handler's value against the answer schema, so that a value
 * off the contract (a missing member, a private one added) fails closed as `internal`, its content
 * never in the message. Exported for tests, which drive it with forged senders.
 */
export async function dispatch<T extends ToBackgroundType>(
  type: T,
  data: unknown,
  sender: SenderFacts,
  handler: Handler<T>,
  self: { id: string; origin: string },
): Promise<Reply<unknown>> {
  const row = MESSAGES[type];
  const kind = classifySender(sender, self.id, self.origin);
  if (!kind || !(row.senders as readonly string[]).includes(kind)) return { ok: false, code: 'sender_refused', message: `${type} is not accepted from this sender` };
  const parsed = row.input.safeParse(data);
  if (!parsed.success) return { ok: false, code: 'payload_invalid', message: parsed.error.issues[0]?.message ?? 'invalid message' };
  let value: unknown;
  try {
    value = await handler(parsed.data as InputOf<T>, sender);
  } catch (error) {
    if (error instanceof ExtensionError) return { ok: false, code: error.code, message: error.message };
    // The protocol's errors (CountersignError) carry DESIGN.md's codes; anything else is internal.
    const code = (error as { code?: unknown }).code;
    return { ok: false, code: isExtensionErrorCode(code) ? code : 'internal', message: error instanceof Error ? error.message : 'failed' };
  }
  const answer = row.output.safeParse(value);
  if (!answer.success) return { ok: false, code: 'internal', message: `the answer to ${type} is not what the message map says it answers` };
  return { ok: true, value: answer.data };
}

/** Registers every handler with the browser; `handlers` must cover every message the background answers. */
export function registerHandlers(handlers: { [T in ToBackgroundType]: Handler<T> }): void {
  const self = { id: browser.runtime.id, origin: browser.runtime.getURL('/').replace(/\/$/, '') };
  // Only the background-bound messages: a bg-cs message sent to the background finds no listener.
  for (const type of TO_BACKGROUND) {
    messenger.onMessage(type, ({ data, sender }) => dispatch(type, data, sender as SenderFacts, handlers[type] as Handler<typeof type>, self) as never);
  }
}
