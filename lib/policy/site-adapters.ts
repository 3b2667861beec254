// Which policy applies to a page: whether it is protected, which adapter is its (an admin's beats a
// built-in one, then the most specific match wins), and which of its actions a request is. Matching
// is the protocol's (ports included). Runtime-neutral, pure.
import { bestMatch, compareSpecificity, matchesAny, pathAmbiguity } from '../protocol/index';
import type { AdapterAction, SiteAdapter } from '../protocol/index';
import { findAction, nearAction } from './adapter-actions';
import type { PolicyView } from './effective-policy';
import type { SiteConfig } from '../messaging/contract';

/**
 * The adapter of a page URL. Among the adapters whose match includes it, an admin's (managed or local
 * policy) beats a built-in one whatever their patterns; then the most specific pattern wins (a port
 * beats none, a longer host, then a longer path); a tie goes to managed over local, then list order.
 */
export function adapterFor(view: Pick<PolicyView, 'policy' | 'adapterSources'>, url: string): SiteAdapter | null {
  let best: SiteAdapter | null = null;
  let bestRank: number[] | null = null;
  for (const adapter of view.policy.adapters) {
    const specificity = bestMatch(adapter.match, url);
    if (!specificity) continue;
    const rank = [view.adapterSources[adapter.id] === 'built-in' ? 0 : 1, ...specificity];
    if (!bestRank || compareSpecificity(rank, bestRank) < 0) {
      best = adapter;
      bestRank = rank;
    }
  }
  return best;
}

/** True when the policy protects the page, or an invalid part of it names the page's site (fail closed). */
export function isProtected(view: Pick<PolicyView, 'policy' | 'failClosed'>, pageUrl: string): boolean {
  return matchesAny(view.policy.protectedSites, pageUrl) || matchesAny(view.failClosed, pageUrl);
}

export function siteConfig(view: PolicyView, pageUrl: string): SiteConfig {
  const protectedSite = isProtected(view, pageUrl);
  return { protected: protectedSite, adapter: protectedSite ? adapterFor(view, pageUrl) : null, strictMode: view.policy.strictMode };
}

export type RequestAction =
  | { ok: true; action: AdapterAction; captures: string[] }
  /** A protected site no adapter matches: every non-GET request to its origin is side-effecting, content unknown. */
  | { ok: true; action: null; captures: [] }
  | { ok: false; reason: string };

/**
 * Which action a request on this page's adapter is, decided from its method and URL only (DESIGN.md,
 * "Site adapters"): never from what the page says it is. On an adapter's site a request that is none
 * of its actions is refused, as is a path routers could read two ways.
 */
export function requestAction(adapter: SiteAdapter | null, method: string, url: URL): RequestAction {
  if (!adapter) return { ok: true, action: null, captures: [] };
  const found = findAction(adapter.actions, method, url);
  if (!found) {
    const near = nearAction(adapter.actions, url);
    return { ok: false, reason: `${method.toUpperCase()} ${url.pathname} is none of the ${adapter.id} adapter's actions${near ? ' (a variant of one: another case, slash or method, or an ambiguous path)' : ''}` };
  }
  const ambiguity = pathAmbiguity(url.pathname);
  if (ambiguity) return { ok: false, reason: `the request's path is ambiguous: ${ambiguity}` };
  return { ok: true, action: found.action, captures: found.captures };
}
