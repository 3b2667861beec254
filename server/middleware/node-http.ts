// node:http front door: a plain server has no router of its own, so the middleware keeps the route
// table and its one matcher decides; the tool then dispatches on the match it is handed, never on a
// second matcher of its own. Node only.
//
//   const guard = countersignNode({ origin, routes: [{ method: 'POST', path: '/api/topics/:id/replies', scope: 'forum.post' }], markers, verifier, principal });
//   createServer(async (req, res) => {
//     const g = await guard(req, res);
//     if (!g.ok) return;                      // refused and answered
//     if (g.route) return handlers[g.route.path](g.params, g.body, g.countersign);
//     // ... the tool's unprotected routes; the body is unread
//   });
//
// The matcher (lib/protocol/path-pattern, the one the extension uses for site adapters):
// - every request's path is checked first: one that routers could read two ways is refused with
//   400 payload_invalid, on every route, protected or not: `//` (an empty segment), `.` and `..`
//   segments, a backslash, `;` parameters, percent-encoded `/ \ . ;` or control characters, spaces
//   and control characters, invalid percent-encoding; a single trailing slash is a path of its own;
// - a route matches when the method is equal (exact, upper case; a HEAD request also matches a GET
//   route and is digested as HEAD) and the path has as many segments as the pattern, each literal
//   equal once percent-decoded (`%74opics` is `topics`), case-sensitive; `*` and `:name` match one
//   segment, whose decoded value is in `captures` (and `params` for `:name`);
// - no two routes may match one request (checked at creation), so table order never matters.
// The query never takes part in matching; it is digested as sent.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../../lib/protocol';
import { CountersignError, compilePathPattern, matchPath, pathAmbiguity } from '../../lib/protocol';
import type { PathPattern } from '../../lib/protocol';
import { checkProtection, createMiddleware, refusal, refusalOf } from './core';
import type { MiddlewareOptions, ProtectedRoute, Refusal } from './core';
import { DEFAULT_BODY_LIMIT, readRawBody } from './raw-body';
import { targetPath } from './request-url';

/** A protected route of a node:http tool; a tool may add its own members (a handler) and find them on the match. */
export interface NodeRoute extends ProtectedRoute {
  /** Largest body this route reads; default the options' `bodyLimit`. */
  bodyLimit?: number;
}

export interface CountersignNodeOptions<R extends NodeRoute = NodeRoute> extends MiddlewareOptions {
  routes: readonly R[];
  /** The tool's own answer to "who is asking"; called only on a protected route. */
  principal(request: IncomingMessage, route: R): Principal | Promise<Principal>;
  /** Largest body a protected route reads (default 1 MiB); a larger one is refused with 413 while it streams. */
  bodyLimit?: number;
}

export type Guarded<R extends NodeRoute = NodeRoute> =
  /** Refused, and the refusal answered. */
  | { ok: false }
  /** Not a protected route: nothing was read; the tool handles it. */
  | { ok: true; route: null }
  | {
      ok: true;
      /** The route matched, as given in `routes`: dispatch on it. */
      route: R;
      /** `:name` segments, decoded. */
      params: Record<string, string>;
      /** Every `*` and `:name` segment in order, decoded. */
      captures: string[];
      /** The protocol's parse of the body: JSON value, form fields (a repeated one an array), text, bytes, or undefined. */
      body: unknown;
      /** The bytes as digested. */
      rawBody: Buffer;
      /** The URL as digested (configured origin + path and query as sent). */
      url: string;
      /** Set when the request carried a valid approval. */
      countersign?: { receipt: string; traceId: string; scope: string };
    };

interface CompiledRoute<R> {
  route: R;
  method: string;
  pattern: PathPattern;
}

const isWildcard = (s: string) => s === '*' || s.startsWith(':');

/** Two patterns that some path matches both: same length, and every segment pair equal or a wildcard. */
function overlap(a: PathPattern, b: PathPattern): boolean {
  return a.segments.length === b.segments.length && a.segments.every((s, i) => isWildcard(s) || isWildcard(b.segments[i]!) || s === b.segments[i]);
}

function answer(response: ServerResponse, decision: Refusal, close = false): { ok: false } {
  response.writeHead(decision.status, { 'content-type': 'application/json; charset=utf-8', ...(close ? { connection: 'close' } : {}) });
  response.end(JSON.stringify(decision.body));
  return { ok: false };
}

/** Returns a guard for a plain node:http handler (see the module header). */
export function countersignNode<R extends NodeRoute>(options: CountersignNodeOptions<R>): (request: IncomingMessage, response: ServerResponse) => Promise<Guarded<R>> {
  const middleware = createMiddleware(options);
  if (typeof options.principal !== 'function') throw new TypeError('countersign: `principal(request, route)` is required');
  if (!Array.isArray(options.routes)) throw new TypeError('countersign: `routes` must be a list of { method, path, scope }');
  const appLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const table: Array<CompiledRoute<R>> = [];
  for (const route of options.routes) {
    const where = `${String(route.method)} ${String(route.path)}`;
    checkProtection(route, where);
    if (typeof route.method !== 'string' || !/^[A-Z]+$/.test(route.method)) throw new TypeError(`countersign: ${where}: method must be an upper-case HTTP method`);
    const pattern = compilePathPattern(route.path);
    if (route.path.includes('?') || pathAmbiguity(route.path.replace(/\/[*]|\/:[^/]+/g, '/x')) !== null) throw new TypeError(`countersign: ${where}: the path must be a plain path pattern`);
    const clash = table.find((c) => c.method === route.method && overlap(c.pattern, pattern));
    if (clash) throw new TypeError(`countersign: routes ${clash.method} ${clash.route.path} and ${where} can match the same request`);
    table.push({ route, method: route.method, pattern });
  }

  return async (request, response) => {
    const target = request.url ?? '';
    const method = request.method ?? 'GET';
    const path = targetPath(target);
    const ambiguity = path === null ? 'the request-target has no path' : pathAmbiguity(path);
    if (ambiguity !== null) return answer(response, refusal('payload_invalid', `${ambiguity}: refused, so that no two routers can read it two ways`));

    let found: { entry: CompiledRoute<R>; captures: string[] } | undefined;
    for (const entry of table) {
      if (entry.method !== method && !(method === 'HEAD' && entry.method === 'GET')) continue;
      const captures = matchPath(entry.pattern, path!);
      if (captures) {
        found = { entry, captures };
        break;
      }
    }
    if (!found) return { ok: true, route: null };
    const { entry, captures } = found;

    let raw: Buffer;
    try {
      raw = await readRawBody(request, { limit: entry.route.bodyLimit ?? appLimit, length: request.headers['content-length'] });
    } catch (error) {
      if (!(error instanceof CountersignError)) throw error;
      return answer(response, refusalOf(error), error.code === 'payload_too_large');
    }
    const decision = await middleware.decide(
      { method, target, headers: request.headers, contentType: request.headers['content-type'] ?? null, body: raw, principal: await options.principal(request, entry.route) },
      entry.route,
    );
    if (decision.action === 'refuse') return answer(response, decision);
    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    let n = 0;
    for (const segment of entry.pattern.segments) if (isWildcard(segment)) {
      const value = captures[n++]!;
      if (segment.startsWith(':')) params[segment.slice(1)] = value;
    }
    return {
      ok: true,
      route: entry.route,
      params,
      captures,
      body: decision.parsed,
      rawBody: raw,
      url: decision.url,
      ...(decision.action === 'allow' ? { countersign: { receipt: decision.receipt, traceId: decision.traceId, scope: decision.scope } } : {}),
    };
  };
}
