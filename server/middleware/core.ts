// Framework-neutral middleware core: which requests need a countersignature, and the decision
// for one request (DESIGN.md, "Which requests need a countersignature"). Node only.
import type { ErrorBody, ErrorCode, Principal } from '../../lib/protocol';
import { APPROVAL_FIELD, CountersignError, ERROR_STATUS, decodeUtf8Strict, isJsonMediaType, mediaType, parseJsonStrict } from '../../lib/protocol';

/** The header that carries an approval token on fetch and XHR requests. */
export const APPROVAL_HEADER = 'countersign-approval';

export type Requirement = 'agents' | 'always';

/** One side-effecting route of the tool. `path` segments: literal, `*` or `:name` (one segment each). */
export interface ProtectedRoute {
  method: string;
  path: string;
  scope: string;
  /** `agents` (default): a token when the principal is an agent or an assistant marker is present. `always`: every request. */
  requires?: Requirement;
  /** Where the post's text is, for the receipt's `cdg`: a JSON pointer (`/body`) or a form field name. */
  content?: string;
}

export interface AssistantMarkers {
  /** Request headers whose presence marks an assistant's request (e.g. `X-Assistant`). */
  headers?: string[];
  /** Body fields (JSON top level or form) whose value marks it (e.g. `author_kind: "assistant"`). */
  fields?: Record<string, string>;
}

/** What the verifier answers for one approval; implemented in-process or over HTTP. */
export interface VerifierClient {
  verify(call: {
    token: string;
    request: { method: string; url: string; contentType: string | null; body: string | Uint8Array | null };
    content?: string;
    principal: Principal;
    assisted?: boolean;
  }): Promise<{ receipt: string; traceId: string }>;
}

export interface MiddlewareOptions {
  routes: ProtectedRoute[];
  markers?: AssistantMarkers;
  verifier: VerifierClient;
  /** The tool's public origin (scheme://host:port) when it sits behind a proxy; else taken from the request. */
  origin?: string;
}

/** One request as the tool received it. */
export interface IncomingRequest {
  method: string;
  /** Absolute URL, or a path resolved against `origin`. */
  url: string;
  contentType: string | null;
  rawBody: Uint8Array | null;
  headers: Record<string, string | string[] | undefined>;
  principal: Principal;
}

export type Decision =
  | { action: 'pass' }
  | { action: 'allow'; receipt: string; traceId: string; scope: string }
  | { action: 'refuse'; status: number; body: ErrorBody };

interface CompiledRoute extends ProtectedRoute {
  segments: string[];
}

export interface Middleware {
  decide(request: IncomingRequest): Promise<Decision>;
}

export function createMiddleware(options: MiddlewareOptions): Middleware {
  const routes: CompiledRoute[] = options.routes.map((r) => ({ ...r, method: r.method.toUpperCase(), segments: splitPath(r.path) }));
  const markerHeaders = (options.markers?.headers ?? []).map((h) => h.toLowerCase());
  const markerFields = Object.entries(options.markers?.fields ?? {});

  return {
    async decide(request) {
      const url = absoluteUrl(request.url, options.origin, request.headers);
      const route = matchRoute(routes, request.method.toUpperCase(), new URL(url).pathname);
      if (!route) return { action: 'pass' };

      const body = await readBody(request);
      const marked = markerHeaders.some((h) => request.headers[h] !== undefined) || markerFields.some(([name, value]) => body.fields.get(name) === value);
      const needed = (route.requires ?? 'agents') === 'always' || request.principal.kind === 'agent' || marked;
      const token = headerValue(request.headers[APPROVAL_HEADER]) ?? body.fields.get(APPROVAL_FIELD);
      // A person's request that needs no approval passes untouched, unless it carries one: an
      // assistant acted in their session and they signed it. Then it is verified like any other,
      // so that a bad token is never ignored and a good one yields its receipt.
      if (!needed && !token) return { action: 'pass' };
      if (!token) return refuse('token_missing', `${route.scope} needs a countersigned approval`);
      try {
        const content = route.content ? body.content(route.content) : undefined;
        const result = await options.verifier.verify({
          token,
          request: { method: request.method, url, contentType: request.contentType, body: request.rawBody },
          ...(content !== undefined ? { content } : {}),
          principal: request.principal,
          ...(marked ? { assisted: true } : {}),
        });
        return { action: 'allow', receipt: result.receipt, traceId: result.traceId, scope: route.scope };
      } catch (error) {
        if (error instanceof CountersignError) return refuse(error.code, error.message, (error as { traceId?: string | null }).traceId);
        return refuse('verifier_unavailable', 'the verifier could not be asked');
      }
    },
  };
}

function refuse(code: ErrorCode, message: string, traceId?: string | null): Decision {
  return { action: 'refuse', status: ERROR_STATUS[code], body: { error: { code, message, ...(traceId ? { traceId } : {}) } } };
}

function splitPath(path: string): string[] {
  return path.split('/').filter(Boolean);
}

function matchRoute(routes: CompiledRoute[], method: string, pathname: string): CompiledRoute | undefined {
  const parts = splitPath(pathname);
  return routes.find(
    (r) => r.method === method && r.segments.length === parts.length && r.segments.every((s, i) => s === '*' || s.startsWith(':') || s === decodeURIComponentSafe(parts[i]!)),
  );
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function absoluteUrl(url: string, origin: string | undefined, headers: IncomingRequest['headers']): string {
  if (/^https?:\/\//i.test(url)) return url;
  const base = origin ?? `http://${headerValue(headers.host) ?? 'localhost'}`;
  return new URL(url, base).href;
}

/** The body's fields (JSON top level, urlencoded or multipart form) and a content reader; nothing if it does not parse. */
async function readBody(request: IncomingRequest): Promise<{ fields: Map<string, string>; content(where: string): string | undefined }> {
  const fields = new Map<string, string>();
  let json: unknown;
  const type = mediaType(request.contentType);
  const text = request.rawBody ? decodeUtf8Strict(request.rawBody) : undefined;
  if (text !== undefined && isJsonMediaType(type)) {
    const parsed = parseJsonStrict(text);
    if (parsed.ok) {
      json = parsed.value;
      if (json && typeof json === 'object' && !Array.isArray(json)) {
        for (const [k, v] of Object.entries(json)) if (typeof v === 'string') fields.set(k, v);
      }
    }
  } else if (text !== undefined && type === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(text)) if (!fields.has(k)) fields.set(k, v);
  } else if (request.rawBody && type === 'multipart/form-data') {
    const form = await new Response(request.rawBody as Uint8Array<ArrayBuffer>, { headers: { 'content-type': request.contentType! } }).formData().catch(() => undefined);
    for (const [k, v] of form?.entries() ?? []) if (typeof v === 'string' && !fields.has(k)) fields.set(k, v);
  }
  return {
    fields,
    content(where) {
      if (where.startsWith('/')) return jsonPointer(json, where);
      return fields.get(where);
    },
  };
}

function jsonPointer(value: unknown, pointer: string): string | undefined {
  let node = value;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'string' ? node : undefined;
}
