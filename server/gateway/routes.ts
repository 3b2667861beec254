// Which of the gateway's routes a request is on (DESIGN.md, "The gateway"). The tool behind the
// gateway is not ours, so its reading of a request is not ours either: matching is deliberately
// wider than any one tool's, and a request one tool might read as a protected action is treated as
// that action. Pure.
//
// - Method: equal; a HEAD request also matches a GET route.
// - Path: segments, each literal compared once percent-decoded and folded (see `foldValue`: case,
//   `_` and spaces, as wikis fold titles and case-insensitive file systems fold names); `*` matches
//   one non-empty segment, a final `**` any number of segments (none too): `/index.php/**` covers
//   `/index.php` and PATH_INFO forms such as `/index.php/Special:UserRights/Alice`.
// - Fields (`query` and `body`): a condition holds when ANY value of the field, in the query string
//   OR the form body, matches its pattern (`*` any run of characters), both folded. PHP tools read
//   `$_POST + $_GET` (MediaWiki: `action`, `title` from either) and keep the LAST of a repeated
//   field, so a field is looked for wherever and however often it is sent. Field names fold as PHP
//   folds them (`a.b` and `a b` are `a_b`; `a[]` is `a`), and case-insensitively.
// - Several matching routes of one scope: the strictest (`always`) is the one. Of two scopes: the
//   request is ambiguous and refused; no reading of it may pick the weaker one.
import type { GatewayRoute } from './config';

export interface CompiledRoute {
  route: GatewayRoute;
  segments: string[];
  /** The path ends in `**`. */
  open: boolean;
  fields: Array<{ name: string; pattern: RegExp }>;
}

export type RouteMatch = { kind: 'none' } | { kind: 'route'; route: GatewayRoute } | { kind: 'ambiguous'; scopes: string[] };

/**
 * Characters a title normaliser drops: soft hyphen, zero-width and bidirectional marks, word joiners,
 * BOM; and U+FFFD, which stands for bytes that are not UTF-8 (a tool reading them as windows-1252
 * drops the five bytes it leaves undefined).
 */
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufffd]/g;

/**
 * Folds a value at least as far as a wiki folds a title (MediaWiki reaches Special:UserRights from
 * `special:userrights`, `Special : UserRights`, a leading `:`, NBSP, bidi marks, the Kelvin sign for
 * K and `ſ` for s): NFKC, invisible marks dropped, case folded both ways, `_` and whitespace runs as
 * one space, spaces around `:` and a leading `:` dropped, trimmed. Folding more than the tool only
 * ever protects more.
 */
export function foldValue(value: string): string {
  return value
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .toUpperCase()
    .toLowerCase()
    .replace(/[_\s]+/g, ' ')
    .replace(/ ?: ?/g, ':')
    .trim()
    .replace(/^:+ ?/, '');
}

/** Folds a field name as PHP reads it: up to a NUL or a `[`, leading spaces dropped, `.` and spaces as `_`, case-insensitively. */
export function foldName(name: string): string {
  const base = name.split('\0', 1)[0]!;
  const bracket = base.indexOf('[');
  return (bracket > 0 ? base.slice(0, bracket) : base).replace(/^\s+/, '').replace(/[.\s]/g, '_').toLowerCase();
}

function globRegExp(pattern: string): RegExp {
  const folded = foldValue(pattern);
  const source = folded
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's');
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function compileRoutes(routes: readonly GatewayRoute[]): CompiledRoute[] {
  return routes.flatMap((route) => {
    const conditions = { ...route.query, ...route.body };
    const fields = Object.entries(conditions).map(([name, value]) => ({ name: foldName(name), pattern: globRegExp(value) }));
    return (typeof route.path === 'string' ? [route.path] : route.path).map((path) => {
      const parts = segmentsOf(path);
      const open = parts[parts.length - 1] === '**';
      const segments = (open ? parts.slice(0, -1) : parts).map((s) => (s === '*' ? s : foldValue(s)));
      return { route, segments, open, fields };
    });
  });
}

function methodMatches(route: GatewayRoute, method: string): boolean {
  const listed = route.method === '*' ? null : typeof route.method === 'string' ? [route.method] : route.method;
  return listed === null || listed.includes(method) || (method === 'HEAD' && listed.includes('GET'));
}

/** A path's segments, empty ones dropped: a web server and PHP read `//index.php` and `/index.php/` as `/index.php`. */
function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function pathMatches(compiled: CompiledRoute, pathname: string): boolean {
  if (!pathname.startsWith('/')) return false;
  const parts = segmentsOf(pathname);
  if (compiled.open ? parts.length < compiled.segments.length : parts.length !== compiled.segments.length) return false;
  for (let i = 0; i < compiled.segments.length; i++) {
    const part = decodeSegment(parts[i]!);
    if (part === undefined) return false;
    const want = compiled.segments[i]!;
    if (want === '*' ? part === '' : foldValue(part) !== want) return false;
  }
  return true;
}

/** Whether any route is for this method (a route for `*` is for every method). */
export function anyRouteFor(routes: readonly CompiledRoute[], method: string): boolean {
  return routes.some((r) => methodMatches(r.route, method));
}

/** The routes whose method and path a request has, whatever its fields: the requests whose body the gateway must read. */
export function routesOnPath(routes: readonly CompiledRoute[], method: string, pathname: string): CompiledRoute[] {
  return routes.filter((r) => methodMatches(r.route, method) && pathMatches(r, pathname));
}

/**
 * The route a request is on, given the candidates on its path and every field it carries (query pairs
 * then body pairs, as sent).
 */
export function matchRoute(candidates: readonly CompiledRoute[], fields: ReadonlyArray<readonly [string, string]>): RouteMatch {
  let folded: Array<[string, string]> | undefined;
  const matched = candidates.filter((c) => {
    if (c.fields.length === 0) return true;
    folded ??= fields.map(([n, v]) => [foldName(n), foldValue(v)]);
    return c.fields.every(({ name, pattern }) => folded!.some(([n, v]) => n === name && pattern.test(v)));
  });
  if (matched.length === 0) return { kind: 'none' };
  const scopes = [...new Set(matched.map((m) => m.route.scope))];
  if (scopes.length > 1) return { kind: 'ambiguous', scopes };
  const strictest = matched.find((m) => m.route.requires === 'always') ?? matched[0]!;
  return { kind: 'route', route: strictest.route };
}
