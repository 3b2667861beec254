// The extension pages' side of messaging: typed calls to the background that unwrap its Outcome.
// Extension pages only (popup, options).
import { messenger } from './messenger';
import type { MessageType, Outcome, ProtocolMap } from './contract';

export class BackgroundError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'BackgroundError';
  }
}

type DataOf<T extends MessageType> = Parameters<ProtocolMap[T]>[0];
type ValueOf<T extends MessageType> = ReturnType<ProtocolMap[T]> extends Outcome<infer V> ? V : never;

export async function ask<T extends MessageType>(type: T, data: DataOf<T>): Promise<ValueOf<T>> {
  const outcome = (await messenger.sendMessage(type, data as never)) as Outcome<ValueOf<T>>;
  if (!outcome.ok) throw new BackgroundError(outcome.code, outcome.message);
  return outcome.value;
}
