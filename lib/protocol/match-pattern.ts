// WebExtension match patterns as Chrome reads them, ports included (`http://wiki.corp:8080/*`; without
// a port every port matches), their specificity, and the site an unparsable pattern still names.
// Hand-written because the kept libraries (@webext-core/match-patterns, browser-extension-url-match)
// refuse ports, which Chrome accepts. Runtime-neutral, pure.

export interface ParsedMatchPattern {
  source: string;
  /** null for `<all_urls>`. */
  schemes: readonly string[];
  /** `*` any host; `*.example.com` that domain and its subdomains; else exact (lower case). */
  host: string;
  /** null: any port. */
  port: number | '*' | null;
  /** Glob over path and query (`*` any run of characters). */
  path: string;
  all: boolean;
}

export type MatchPatternParse = { ok: true; pattern: ParsedMatchPattern } | { ok: false; reason: string };

const SCHEMES: Record<string, readonly string[]> = {
  '*': ['http', 'https'],
  http: ['http'],
  https: ['https'],
  ws: ['ws'],
  wss: ['wss'],
  ftp: ['ftp'],
  file: ['file'],
};
const ALL_URLS_SCHEMES = ['http', 'https', 'ws', 'wss', 'ftp', 'file'];
const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443, ftp: 21 };
const MAX_PATTERN = 2048;

/** Parses one pattern; the reason says what an admin should fix. */
export function parseMatchPattern(source: string): MatchPatternParse {
  if (typeof source !== 'string' || source.length === 0 || source.length > MAX_PATTERN) return { ok: false, reason: 'a match pattern is a non-empty string of at most 2048 characters' };
  if (source === '<all_urls>') return { ok: true, pattern: { source, schemes: ALL_URLS_SCHEMES, host: '*', port: null, path: '/*', all: true } };
  const m = /^([^:/]+):\/\/([^/]*)(\/.*)?$/s.exec(source);
  if (!m) return { ok: false, reason: 'not scheme://host/path' };
  const [, scheme, authority, path] = m as unknown as [string, string, string, string | undefined];
  const schemes = SCHEMES[scheme];
  if (!schemes) return { ok: false, reason: `scheme ${scheme} is not one of *, http, https, ws, wss, ftp, file` };
  if (path === undefined) return { ok: false, reason: 'the pattern needs a path (at least /)' };
  if (/[\s#]/.test(path)) return { ok: false, reason: 'the path contains a space or #' };
  if (scheme === 'file') {
    if (authority !== '') return { ok: false, reason: 'a file pattern has no host' };
    return { ok: true, pattern: { source, schemes, host: '', port: null, path, all: false } };
  }
  const hp = /^(\*|\*\.[^*:[\]]+|\[[0-9A-Fa-f:.]+\]|[^*:[\]]+)(?::(\*|\d{1,5}))?$/.exec(authority);
  if (!hp) return { ok: false, reason: authority === '' ? 'the pattern needs a host' : `host ${authority} is not *, *.domain, a domain or an address (with an optional :port)` };
  let host = hp[1]!.toLowerCase();
  if (!host.startsWith('[') && !/^(\*|(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?)$/.test(host)) return { ok: false, reason: `host ${hp[1]} contains characters a host cannot have` };
  if (host !== '*' && !host.startsWith('*.')) {
    // The host as the URL parser writes a page's hostname (`[0:0::1]` is `[::1]`, `127.1` is
    // `127.0.0.1`): a pattern spelled otherwise would silently match nothing.
    const canonical = canonicalHost(host);
    if (canonical === undefined) return { ok: false, reason: `host ${hp[1]} is not a valid host name or address` };
    host = canonical;
  }
  let port: ParsedMatchPattern['port'] = null;
  if (hp[2] !== undefined) {
    port = hp[2] === '*' ? '*' : Number(hp[2]);
    if (port !== '*' && (port < 1 || port > 65535)) return { ok: false, reason: `port ${hp[2]} is out of range` };
  }
  return { ok: true, pattern: { source, schemes, host, port, path, all: false } };
}

function globMatches(glob: string, text: string): boolean {
  const regex = new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
  return regex.test(text);
}

function canonicalHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
}

/** One trailing dot names the same host (`wiki.corp.` is `wiki.corp`), as Chrome matches it. */
function withoutTrailingDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function hostMatches(patternHost: string, urlHost: string): boolean {
  if (patternHost === '*') return true;
  const host = withoutTrailingDot(urlHost);
  if (patternHost.startsWith('*.')) {
    const domain = withoutTrailingDot(patternHost.slice(2));
    return host === domain || host.endsWith(`.${domain}`);
  }
  return host === withoutTrailingDot(patternHost);
}

/** True when the parsed pattern includes `url` (Chrome's rules: no port in the pattern matches every port). */
export function patternIncludes(pattern: ParsedMatchPattern, url: string | URL): boolean {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return false;
  }
  const scheme = u.protocol.slice(0, -1);
  if (!pattern.schemes.includes(scheme)) return false;
  if (pattern.all) return true;
  if (scheme !== 'file') {
    if (!hostMatches(pattern.host, u.hostname.toLowerCase())) return false;
    if (typeof pattern.port === 'number' && pattern.port !== (u.port === '' ? DEFAULT_PORT[scheme] : Number(u.port))) return false;
  }
  return globMatches(pattern.path, `${u.pathname}${u.search}`);
}

/** True when any of the patterns includes `url`; an unparsable pattern includes nothing (callers fail closed on it). */
export function matchesAny(patterns: readonly string[], url: string | URL): boolean {
  return patterns.some((p) => {
    const parsed = parseMatchPattern(p);
    return parsed.ok && patternIncludes(parsed.pattern, url);
  });
}

/**
 * How specific a pattern is, to pick among several that match one page: a port beats none, then a
 * longer host, then a longer path (wildcards not counted). Compare with compareSpecificity.
 */
export function patternSpecificity(pattern: ParsedMatchPattern): [number, number, number] {
  const host = pattern.host === '*' ? 0 : pattern.host.startsWith('*.') ? pattern.host.length - 2 : pattern.host.length + 0.5;
  return [typeof pattern.port === 'number' ? 1 : 0, host, pattern.path.replace(/\*/g, '').length];
}

/** Negative when `a` is more specific than `b` (sorts the most specific first). */
export function compareSpecificity(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (b[i] ?? 0) - (a[i] ?? 0);
  return 0;
}

/** The most specific of `patterns` that includes `url`, as its specificity, or null when none does. */
export function bestMatch(patterns: readonly string[], url: string | URL): [number, number, number] | null {
  let best: [number, number, number] | null = null;
  for (const p of patterns) {
    const parsed = parseMatchPattern(p);
    if (!parsed.ok || !patternIncludes(parsed.pattern, url)) continue;
    const s = patternSpecificity(parsed.pattern);
    if (!best || compareSpecificity(s, best) < 0) best = s;
  }
  return best;
}

/**
 * The site an unparsable pattern still names, as a valid pattern, so that the extension can fail
 * closed there: `http://wiki.corp:99999/*` → `*://wiki.corp/*`, `http://*.corp:99999/*` →
 * `*://*.corp/*` (the domain and its subdomains, as the admin wrote), `http://[::1]:0/*` →
 * `*://[::1]/*`, and a host of `*` stays every host. Null when it names no host at all.
 */
export function siteOfPattern(source: string): string | null {
  if (typeof source !== 'string' || source.length > MAX_PATTERN) return null;
  const m = /^[^:/]*:\/\/(\*\.)?(\[[0-9A-Fa-f:.]+\]|\*|[A-Za-z0-9_.-]+)(?::[^/]*)?(?:\/|$)/.exec(source);
  if (!m) return null;
  const wildcard = m[1] ?? '';
  const host = m[2]!.toLowerCase();
  if (wildcard && host === '*') return null;
  const candidate = `*://${wildcard}${host}/*`;
  return parseMatchPattern(candidate).ok ? candidate : null;
}
