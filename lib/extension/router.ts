// The background's message router: each message parsed with its schema, its sender checked against
// the message map, then handed to its handler; failures answer a stable code. Background only.
import { browser } from 'wxt/browser';
import type { z } from 'zod';
import { MESSAGES } from '../messaging/contract';
import type { MessageType, Reply, ProtocolMap } from '../messaging/contract';
import { messenger } from '../messaging/messenger';
import { classifySender } from '../messaging/senders';
import { ExtensionError, isExtensionErrorCode } from '../messaging/errors';
import type { SenderFacts } from '../messaging/senders';

export { messenger } from '../messaging/messenger';

type InputOf<T extends MessageType> = z.infer<(typeof MESSAGES)[T]['input']>;
type ValueOf<T extends MessageType> = ReturnType<ProtocolMap[T]> extends Reply<infer V> ? V : never;
export type Handler<T extends MessageType> = (data: InputOf<T>, sender: SenderFacts) => Promise<ValueOf<T>> | ValueOf<T>;


/**
 * Checks one message: sender first (so a refused sender learns nothing about the payload's
 * validity), then the payload. Exported for tests, which drive it with forged senders.
 */
export async function dispatch<T extends MessageType>(
  type: T,
  data: unknown,
  sender: SenderFacts,
  handler: Handler<T>,
  self: { id: string; origin: string },
): Promise<Reply<unknown>> {
  const kind = classifySender(sender, self.id, self.origin);
  const allowed = MESSAGES[type].senders as readonly string[];
  if (!kind || !allowed.includes(kind)) return { ok: false, code: 'sender_refused', message: `${type} is not accepted from this sender` };
  const parsed = MESSAGES[type].input.safeParse(data);
  if (!parsed.success) return { ok: false, code: 'payload_invalid', message: parsed.error.issues[0]?.message ?? 'invalid message' };
  try {
    return { ok: true, value: await handler(parsed.data as InputOf<T>, sender) };
  } catch (error) {
    if (error instanceof ExtensionError) return { ok: false, code: error.code, message: error.message };
    // The protocol's errors (CountersignError) carry DESIGN.md's codes; anything else is internal.
    const code = (error as { code?: unknown }).code;
    return { ok: false, code: isExtensionErrorCode(code) ? code : 'internal', message: error instanceof Error ? error.message : 'failed' };
  }
}

/** Registers every handler with the browser; `handlers` must cover the whole map. */
export function registerHandlers(handlers: { [T in MessageType]: Handler<T> }): void {
  const self = { id: browser.runtime.id, origin: browser.runtime.getURL('/').replace(/\/$/, '') };
  for (const type of Object.keys(MESSAGES) as MessageType[]) {
    messenger.onMessage(type, ({ data, sender }) => dispatch(type, data, sender as SenderFacts, handlers[type] as Handler<typeof type>, self) as never);
  }
}
