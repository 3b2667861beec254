// Path patterns of site adapters and protected routes (`/api/topics/*/replies`, `:id` too), one
// matcher for the page hooks, the background and the middleware, and the paths too ambiguous to
// match at all. Runtime-neutral, pure.

/** A compiled pattern: literal segments, and `*` or `:name` for exactly one segment each. */
export interface PathPattern {
  source: string;
  segments: string[];
}

/** Compiles `/a/*\/b` (a query part, if any, is not part of the path pattern). Throws TypeError for a pattern that is not a path. */
export function compilePathPattern(pattern: string): PathPattern {
  const path = pattern.split('?', 1)[0]!;
  if (!path.startsWith('/')) throw new TypeError(`path pattern must start with /: ${pattern}`);
  return { source: pattern, segments: path.slice(1).split('/') };
}

function isWildcard(segment: string): boolean {
  return segment === '*' || segment.startsWith(':');
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Matches a URL's path (as sent: percent-encoded) against a pattern: the same number of segments,
 * each literal equal once percent-decoded (so `%74opics` is `topics`), case-sensitive. Returns each
 * wildcard's decoded value in order, or null. A segment that does not decode matches nothing.
 */
export function matchPath(pattern: PathPattern, pathname: string): string[] | null {
  if (!pathname.startsWith('/')) return null;
  const parts = pathname.slice(1).split('/');
  if (parts.length !== pattern.segments.length) return null;
  const captures: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = decodeSegment(parts[i]!);
    if (part === undefined) return null;
    const want = pattern.segments[i]!;
    if (isWildcard(want)) {
      // A wildcard stands for one real segment: `/topics//replies` has none there.
      if (part === '') return null;
      captures.push(part);
    } else if (want !== part) return null;
  }
  return captures;
}

/**
 * Why a path is too ambiguous to be matched (routers disagree about it), or null when it is plain:
 * empty segments (`//`), dot segments, a backslash, `;` parameters, a `#`, and percent-encoded `/`,
 * `\`, `.`, `;`, `#` or control characters, also encoded twice (`%252f`) — each a way for two
 * routers to see two different paths.
 */
export function pathAmbiguity(pathname: string): string | null {
  if (!pathname.startsWith('/')) return 'the path does not start with /';
  if (pathname.includes('\\')) return 'the path contains a backslash';
  if (pathname.includes(';')) return 'the path carries ; parameters';
  if (pathname.includes('#')) return 'the path contains a #';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\u0000-\u0020\u007f]/.test(pathname)) return 'the path contains a control character or space';
  if (/%(2f|5c|2e|3b|23|[01][0-9a-f]|7f)/i.test(pathname)) return 'the path percent-encodes a slash, backslash, dot, semicolon, # or control character';
  if (/%25(2f|5c|2e|3b|23|[01][0-9a-f]|7f)/i.test(pathname)) return 'the path percent-encodes twice a slash, backslash, dot, semicolon, # or control character';
  const segments = pathname.slice(1).split('/');
  // A single trailing slash is an ordinary path; an empty segment anywhere else is `//`.
  if (segments.slice(0, -1).some((s) => s === '')) return 'the path has an empty segment (//)';
  if (segments.some((s) => s === '.' || s === '..')) return 'the path has a dot segment';
  if (segments.some((s) => decodeSegment(s) === undefined)) return 'the path is not valid percent-encoding';
  return null;
}

/** Fills `{n}` in a template with the n-th wildcard's value (1-based), percent-encoded. */
export function fillPathTemplate(template: string, captures: readonly string[]): string {
  return template.replace(/\{(\d+)\}/g, (_m, n: string) => encodeURIComponent(captures[Number(n) - 1] ?? ''));
}
