// WebExtension match patterns against URLs, through @webext-core/match-patterns. Runtime-neutral.
import { MatchPattern } from '@webext-core/match-patterns';

/** True when `url` matches any of the patterns; an unparsable pattern matches nothing. */
export function matchesAny(patterns: readonly string[], url: string): boolean {
  return patterns.some((p) => {
    try {
      return new MatchPattern(p).includes(url);
    } catch {
      return false;
    }
  });
}
