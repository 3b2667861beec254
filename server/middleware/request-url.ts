// The URL a tool's request is digested as: the tool's configured origin plus the request-target's
// path and query exactly as received — never an authority taken from the request (DESIGN.md,
// "Canonical action digest"). The request's own authority (an absolute-form target, the Host header)
// is only checked against the configured origins, and refused when it names another. Node only
// (pure, but its inputs are Node's raw request-target and headers).

/** One configured origin and the Host header values that name it. */
export interface ToolOrigin {
  /** WHATWG-serialised origin, e.g. `http://127.0.0.1:8080` (lower case, default port dropped). */
  origin: string;
  protocol: 'http:' | 'https:';
  /** Host header values (lower case) that name this origin: `host:port`, and `host` alone when the port is the scheme's default. */
  hosts: string[];
}

const DEFAULT_PORT = { 'http:': '80', 'https:': '443' } as const;

/**
 * Validates the `origin` option (a string or a list) and compiles it. Each must be an
 * `http(s)://host[:port]` origin with nothing else (no path, query, fragment or credentials), and no
 * two may be named by the same Host header (`http://a` and `https://a` both answer to `Host: a`).
 * Throws TypeError: this is the tool's configuration, not untrusted input.
 */
export function compileOrigins(option: unknown): ToolOrigin[] {
  const list = typeof option === 'string' ? [option] : option;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError('countersign: `origin` is required: the tool\'s public origin (e.g. "https://forum.corp.example"), or a list of the origins it answers to');
  }
  const compiled: ToolOrigin[] = [];
  for (const value of list) {
    const origin = compileOrigin(value);
    const clash = compiled.find((o) => o.hosts.some((h) => origin.hosts.includes(h)));
    if (clash) throw new TypeError(`countersign: origins ${clash.origin} and ${origin.origin} are named by the same Host header; configure one of them`);
    compiled.push(origin);
  }
  return compiled;
}

function compileOrigin(value: unknown): ToolOrigin {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 200)) : typeof value;
  // Scheme, then an authority without userinfo, path, query or fragment; an optional single `/`.
  if (typeof value !== 'string' || !/^https?:\/\/[^/?#@\\\s]+\/?$/i.test(value)) {
    throw new TypeError(`countersign: origin ${shown} is not an http(s)://host[:port] origin`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`countersign: origin ${shown} is not an http(s)://host[:port] origin`);
  }
  const protocol = url.protocol as 'http:' | 'https:';
  const hosts = [url.host];
  if (url.port === '') hosts.push(`${url.hostname}:${DEFAULT_PORT[protocol]}`);
  return { origin: url.origin, protocol, hosts };
}

export type ResolvedUrl = { ok: true; url: string; origin: ToolOrigin; pathQuery: string } | { ok: false; message: string };

/** `scheme://authority` then the rest, of an absolute-form request-target. */
const ABSOLUTE_FORM = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([\s\S]*)$/i;

/**
 * The URL to digest for a request: `origin + path-and-query`, where the path and query are the
 * request-target's own characters (string concatenation: `//evil/x` stays a path). Refused when:
 * - the target is absolute-form (`POST http://other/x`) with an origin that is not configured;
 * - a Host header names an authority that is not a configured origin's (compared case-insensitively,
 *   `host:80` the same as `host` for http; anything else, a trailing dot included, is another name);
 * - the target is neither origin-form nor absolute-form (`*`, `host:port`);
 * - the WHATWG URL parser would read the target differently (dot segments, `%2e` segments,
 *   backslashes, a `#`, characters it re-encodes): then the URL approved and the path routed could
 *   differ, so the request is refused rather than reinterpreted.
 * No Host header (HTTP/1.0) means the first configured origin. X-Forwarded-Host is never read.
 */
export function resolveRequestUrl(origins: readonly ToolOrigin[], target: string, hostHeader: string | string[] | undefined): ResolvedUrl {
  if (Array.isArray(hostHeader)) {
    if (hostHeader.length !== 1) return { ok: false, message: 'the request carries more than one Host header' };
    hostHeader = hostHeader[0];
  }
  const byHost = hostHeader === undefined ? undefined : origins.find((o) => o.hosts.includes(hostHeader.toLowerCase()));
  if (hostHeader !== undefined && !byHost) return { ok: false, message: 'the Host header names another authority than this tool\'s configured origin' };

  let origin: ToolOrigin;
  let pathQuery: string;
  if (target.startsWith('/')) {
    origin = byHost ?? origins[0]!;
    pathQuery = target;
  } else {
    const m = ABSOLUTE_FORM.exec(target);
    if (!m) return { ok: false, message: 'the request-target is neither a path nor an absolute URL' };
    const protocol = `${m[1]!.toLowerCase()}:`;
    const authority = m[2]!.toLowerCase();
    const named = origins.find((o) => o.protocol === protocol && o.hosts.includes(authority));
    if (!named) return { ok: false, message: 'the absolute request-target names another origin than this tool\'s configured origin' };
    if (byHost && byHost !== named) return { ok: false, message: 'the absolute request-target and the Host header name different origins' };
    if (!m[3]!.startsWith('/')) return { ok: false, message: 'the absolute request-target has no path' };
    origin = named;
    pathQuery = m[3]!;
  }

  // A fragment is never part of a request-target (RFC 9112), and the digest would drop it.
  if (pathQuery.includes('#')) return { ok: false, message: 'the request-target carries a fragment (#)' };
  const url = origin.origin + pathQuery;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, message: 'the request-target is not a valid URL path' };
  }
  if (parsed.href !== url) {
    return { ok: false, message: 'the request-target is not in normal form (dot segments, backslashes, a fragment, or characters a URL parser re-encodes): the URL approved could differ from the URL routed' };
  }
  return { ok: true, url, origin, pathQuery };
}

/** The path of a request-target (origin-form or absolute-form), as sent; null when it has none. */
export function targetPath(target: string): string | null {
  if (target.startsWith('/')) return splitQuery(target);
  const m = ABSOLUTE_FORM.exec(target);
  return m && m[3]!.startsWith('/') ? splitQuery(m[3]!) : null;
}

function splitQuery(pathQuery: string): string {
  const end = pathQuery.search(/[?#]/);
  return end === -1 ? pathQuery : pathQuery.slice(0, end);
}
