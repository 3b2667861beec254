// The extension pages' side of messaging: typed calls to the background that unwrap its Reply.
// Extension pages only (popup, options).
import { ExtensionError } from './errors';
import { messenger } from './messenger';
import type { MessageType, Reply, ProtocolMap } from './contract';


type DataOf<T extends MessageType> = Parameters<ProtocolMap[T]>[0];
type ValueOf<T extends MessageType> = ReturnType<ProtocolMap[T]> extends Reply<infer V> ? V : never;

export async function ask<T extends MessageType>(type: T, data: DataOf<T>): Promise<ValueOf<T>> {
  const outcome = (await messenger.sendMessage(type, data as never)) as Reply<ValueOf<T>>;
  if (!outcome.ok) throw new ExtensionError(outcome.code, outcome.message);
  return outcome.value;
}
