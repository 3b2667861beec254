// The extension's side of match patterns: which of the policy's patterns Chrome takes for content
// scripts. Matching itself is the protocol's (lib/protocol/match-pattern.ts, ports included), one
// rule for every part of Countersign. Runtime-neutral, pure.
import { parseMatchPattern, siteOfPattern } from '../protocol/index';

/** The schemes of the pages Countersign can hold requests on (its host permissions: http and https). */
const PAGE_SCHEMES = new Set(['http', 'https']);

/**
 * Why content scripts cannot be registered for `pattern`, or null when Chrome takes it. One pattern
 * Chrome refuses makes `scripting.registerContentScripts` refuse the whole call, so nothing is
 * registered that is not checked here first: ws/wss are no pages (Chrome refuses them for content
 * scripts), file and ftp pages are outside the extension's host permissions.
 */
export function registrationRefusal(pattern: string): string | null {
  const parsed = parseMatchPattern(pattern);
  if (!parsed.ok) return parsed.reason;
  if (parsed.pattern.all) return null;
  if (!parsed.pattern.schemes.some((s) => PAGE_SCHEMES.has(s))) return `Countersign holds requests on http and https pages only, not ${parsed.pattern.schemes.join('/')}`;
  return null;
}

/**
 * What to register for a pattern: itself when Chrome takes it, else the site it still names (so that
 * site fails closed, never unprotected), else nothing.
 */
export function registrablePattern(pattern: string): string | null {
  if (registrationRefusal(pattern) === null) return pattern;
  const site = siteOfPattern(pattern);
  return site !== null && registrationRefusal(site) === null ? site : null;
}
