// Whether the page hooks hold a request: which adapter action it may be (the protocol's path matcher,
// as the background and the middleware match it), and whether its signals make holding it necessary.
// Runtime-neutral, pure.
import type { HookConfig } from '../channel';
import { findAction, nearAction } from '../../policy/adapter-actions';

export type HookAction = Omit<HookConfig['actions'][number], 'request'>;
/** A request held as the generic adapter holds it: side-effecting. */
const GENERIC: HookAction = { requires: 'agents' };

/** Only writes to the page's own origin (`page.origin`) are ever held: every other request goes out untouched. */
export function isSameOriginWrite(page: { origin: string }, method: string, url: URL): boolean {
  return url.origin === page.origin && method !== 'GET' && method !== 'HEAD';
}

/**
 * Whether a same-origin write may need holding, and as what: an adapter action, the generic adapter's
 * rule, or null. A variant of an action's request (another case, slash or method, an ambiguous path)
 * is held too when an assistant wrote it, so the background refuses it instead of it going out unheld.
 */
export function actionFor(c: Pick<HookConfig, 'actions' | 'generic'>, method: string, url: URL): HookAction | null {
  const hit = findAction(c.actions, method, url);
  if (hit) return hit.action;
  return c.generic || nearAction(c.actions, url) ? GENERIC : null;
}

/** An action's request is held when any authorship signal says an assistant may have written it, or always when the action says so. */
export function mustHold(action: HookAction, signals: readonly string[]): boolean {
  return signals.length > 0 || action.requires === 'always';
}
