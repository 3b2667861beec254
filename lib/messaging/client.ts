// The extension pages' side of messaging: typed calls to the background that unwrap its Reply.
// Extension pages only (popup, options).
import { ExtensionError } from './errors';
import { messenger } from './messenger';
import type { DataOf, Reply, ToBackgroundType, ValueOf } from './contract';

export async function ask<T extends ToBackgroundType>(type: T, data: DataOf<T>): Promise<ValueOf<T>> {
  const outcome = (await messenger.sendMessage(type, data as never)) as Reply<ValueOf<T>>;
  if (!outcome.ok) throw new ExtensionError(outcome.code, outcome.message);
  return outcome.value;
}
