// Which adapter action a request is: its method, and its path against each action's URL pattern with
// the protocol's one path matcher (lib/protocol/path-pattern.ts), as the middleware matches routes. The
// page hooks use it to decide whether to hold, the bridge to read a config's "before", the background
// to decide the action's scope; the page never names the action. Runtime-neutral, pure; imports the
// protocol module itself, not its index, to keep the page hooks' bundle small.
import { compilePathPattern, matchPath, pathAmbiguity } from '../protocol/path-pattern';

/** The part of an adapter action that says which requests it is. */
export interface ActionRequestPattern {
  request: { method: string; url: string };
}

export interface FoundAction<A> {
  action: A;
  index: number;
  /** Each `*` of the URL pattern's value, for a `before.get` template. */
  captures: string[];
}

/** The first action whose method and path pattern the request has exactly, or null. */
export function findAction<A extends ActionRequestPattern>(actions: readonly A[], method: string, url: URL): FoundAction<A> | null {
  const upper = method.toUpperCase();
  for (let index = 0; index < actions.length; index++) {
    const action = actions[index]!;
    if (action.request.method !== upper) continue;
    const captures = matchPath(compilePathPattern(action.request.url), url.pathname);
    if (captures) return { action, index, captures };
  }
  return null;
}

/**
 * True when a request that is none of the actions could still reach one at a tool: an ambiguous path
 * (`//`, dot segments, encoded slashes, `;`), or an action's path in another case, with a trailing or
 * doubled slash, or with another method (a method override). Routers differ on these; Countersign
 * does not guess which one the tool runs, so an assistant's such request is refused, never let through.
 */
export function nearAction(actions: readonly ActionRequestPattern[], url: URL): boolean {
  if (pathAmbiguity(url.pathname) !== null) return true;
  const loose = (path: string) => path.toLowerCase().replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // not valid percent-encoding: compared as sent
  }
  path = loose(path);
  return actions.some((a) => matchPath(compilePathPattern(loose(a.request.url.split('?', 1)[0]!)), path) !== null);
}
