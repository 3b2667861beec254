// The framework-neutral decision core shared by every front door (Fastify, Express, node:http, and
// the gateway): for one request on one protected route, the URL it is digested as, the body the
// handler gets (the protocol's one strict parse of the bytes that were digested), and whether it
// passes, is allowed with a receipt, or is refused (DESIGN.md, "Which requests need a
// countersignature"). The route is the front door's business: the framework's router decides which
// route a request is on, and hands its protection here. Node only.
import type { BodyFields, ErrorBody, ErrorCode, Principal } from '../../lib/protocol';
import {
  APPROVAL_FIELD,
  APPROVAL_HEADER,
  CountersignError,
  ERROR_STATUS,
  Identifier,
  Principal as PrincipalSchema,
  TraceId,
  decodeUtf8Strict,
  fieldValues,
  formObject,
  hasFieldValue,
  mediaType,
  newTraceId,
  QUORUM_LIMITS,
  readBodyFields,
  splitApprovalTokens,
} from '../../lib/protocol';
import { compileOrigins, resolveRequestUrl } from './request-url';
import type { ToolOrigin } from './request-url';

export { APPROVAL_HEADER };

export type Requirement = 'agents' | 'always';

/** What a protected route declares, wherever it is declared (a Fastify route's config, `protect()`, a table). */
export interface RouteProtection {
  /** The tool scope, e.g. `forum.post`: the token's `scp` must equal it. */
  scope: string;
  /** `agents` (default): a token when the principal is an agent or an assistant marker is present. `always`: every request. */
  requires?: Requirement;
  /** Where the post's text is, for the receipt's `cdg`: a field name (`body`) or a JSON pointer (`/post/text`). The verifier reads it. */
  content?: string;
}

/** A protected route in a table: node:http's, the gateway's, and the demo tools' data for their site adapters. */
export interface ProtectedRoute extends RouteProtection {
  method: string;
  /** Segments: literal, `*` or `:name` (one segment each). */
  path: string;
}

export interface AssistantMarkers {
  /** Request headers whose presence marks an assistant's request (e.g. `X-Assistant`). */
  headers?: string[];
  /** Body fields (a JSON body's top level, or a form) of which ANY value equal to this marks it (e.g. `author_kind: "assistant"`). */
  fields?: Record<string, string>;
}

/** One verify call: the request as received, and the route it is on. */
export interface VerifierCall {
  /** Every approval the request carried (1–5; several when policy requires more than one approver). */
  tokens: readonly string[];
  request: { method: string; url: string; contentType: string | null; body: string | Uint8Array | null };
  /** The route's scope: the token's `scp` must equal it. */
  scope: string;
  /** The route's content field: the verifier reads the post's text from the body itself. */
  contentField?: string;
  /** The tool's requester; absent when nobody vouches for who is asking (the gateway without an identity). */
  principal?: Principal;
  assisted?: boolean;
}

/** What the verifier answers for one approval; implemented in-process or over HTTP. Throws a CountersignError to refuse. */
export interface VerifierClient {
  verify(call: VerifierCall): Promise<{ receipt: string; traceId: string }>;
}

export interface MiddlewareOptions {
  /** The tool's public origin (`https://forum.corp.example`), or every origin it answers to: the tokens' `aud` and the digest's URL. */
  origin: string | string[];
  markers?: AssistantMarkers;
  verifier: VerifierClient;
}

export type Headers = Record<string, string | string[] | undefined>;

/** One request as the tool received it, before anyone asked who sent it. */
export interface RequestFacts {
  method: string;
  /** The request-target exactly as received: `/path?query`, or absolute-form `http://host/path`. */
  target: string;
  /** Lower-case names, as Node gives them. */
  headers: Headers;
  contentType: string | null;
  /** The body's bytes as read (empty or null: no body). */
  body: Uint8Array | null;
}

export interface IncomingRequest extends RequestFacts {
  /** Who is asking, from the tool's own authentication. */
  principal: Principal;
}

/** What the first step found: everything but the verifier's answer. */
export interface Inspection {
  action: 'inspected';
  route: RouteProtection;
  /** The request as it is digested. */
  request: { method: string; url: string; contentType: string | null; body: Uint8Array | null };
  /** What the handler gets (see `parsed` in Decision). */
  parsed: unknown;
  /** The approvals it carries: the `Countersign-Approval` list, or every value of the form field (never both). */
  tokens: string[];
  /** An assistant marker (header, or any value of a marker field) is present. */
  marked: boolean;
}

export interface Refusal {
  action: 'refuse';
  status: number;
  body: ErrorBody;
}

/**
 * `parsed` is the handler's body, the protocol's one parse of the digested bytes: a JSON body's value
 * (duplicate keys were refused), a form's fields as `formObject` gives them (a repeated field is an
 * array of every value in order; the approval field left out), a `text/*` body's string, the bytes of
 * anything else (binary, multipart with files), or undefined when there is no body.
 */
export type Decision =
  | { action: 'pass'; url: string; parsed: unknown }
  | { action: 'allow'; url: string; parsed: unknown; receipt: string; traceId: string; scope: string }
  | Refusal;

export interface Middleware {
  readonly origins: readonly ToolOrigin[];
  /** Step one, no verifier: the URL, the body, the approval and the markers; or a refusal (400, 413). */
  inspect(request: RequestFacts, route: RouteProtection): Promise<Inspection | Refusal>;
  /**
   * Step two: whether the principal needs an approval, and the verifier's answer if it does. `null` is
   * an unknown requester (a gateway whose authenticating proxy named nobody): treated as a person,
   * and a token it carries is verified without binding its `agt` to anyone.
   */
  settle(inspection: Inspection, principal: Principal | null): Promise<Decision>;
  /** Both steps. */
  decide(request: IncomingRequest, route: RouteProtection): Promise<Decision>;
}

/** A refusal in DESIGN.md's shape; `traceId` the token's `trc` when there was one, else a fresh id. */
export function refusal(code: ErrorCode, message: string, traceId?: string): Refusal {
  const trace = typeof traceId === 'string' && TraceId.safeParse(traceId).success ? traceId : newTraceId();
  return { action: 'refuse', status: ERROR_STATUS[code], body: { error: { code, message, traceId: trace } } };
}

/** A CountersignError (or anything else: then the verifier could not be asked) as a refusal. */
export function refusalOf(error: unknown): Refusal {
  if (error instanceof CountersignError) return refusal(error.code, error.message, error.traceId);
  return refusal('verifier_unavailable', 'the verifier could not be asked');
}

/** Checks a route's protection as declared by the tool: TypeError for a mistake, naming the route. */
export function checkProtection(route: unknown, where: string): RouteProtection {
  const r = route as Partial<RouteProtection> | null;
  if (r === null || typeof r !== 'object') throw new TypeError(`countersign: ${where}: the protection must be an object { scope, requires?, content? }`);
  if (!Identifier.safeParse(r.scope).success) throw new TypeError(`countersign: ${where}: scope must be a non-empty string`);
  if (r.requires !== undefined && r.requires !== 'agents' && r.requires !== 'always') throw new TypeError(`countersign: ${where}: requires must be "agents" or "always"`);
  if (r.content !== undefined && (typeof r.content !== 'string' || r.content.length === 0 || r.content.length > 256)) {
    throw new TypeError(`countersign: ${where}: content must be a field name or a JSON pointer`);
  }
  return { scope: r.scope!, ...(r.requires ? { requires: r.requires } : {}), ...(r.content ? { content: r.content } : {}) };
}

export function createMiddleware(options: MiddlewareOptions): Middleware {
  const origins = compileOrigins(options?.origin);
  if (typeof options.verifier?.verify !== 'function') throw new TypeError('countersign: `verifier` is required (inProcessVerifier(deps) or remoteVerifier({ url }))');
  const markerHeaders = (options.markers?.headers ?? []).map((h) => h.toLowerCase());
  const markerFields = Object.entries(options.markers?.fields ?? {});

  async function inspect(request: RequestFacts, route: RouteProtection): Promise<Inspection | Refusal> {
    const resolved = resolveRequestUrl(origins, request.target, request.headers.host);
    if (!resolved.ok) return refusal('payload_invalid', resolved.message);

    const bytes = request.body && request.body.length > 0 ? request.body : null;
    const read = await readBody(request.contentType, bytes);
    if (!read.ok) return refusal('payload_invalid', read.message);

    // Several approvals (a quorum) come as one list: the header's comma-separated tokens (Node joins
    // a repeated header with ", "), or the form field repeated. Two spellings never combine.
    let headerTokens: string[];
    try {
      headerTokens = splitApprovalTokens(request.headers[APPROVAL_HEADER.toLowerCase()]);
    } catch (error) {
      return refusalOf(error);
    }
    const fieldTokens = fieldValues(read.fields, APPROVAL_FIELD);
    if (fieldTokens.length > QUORUM_LIMITS.maxApprovers) return refusal('token_malformed', `the ${APPROVAL_FIELD} field appears ${fieldTokens.length} times (at most ${QUORUM_LIMITS.maxApprovers})`);
    if (headerTokens.length > 0 && fieldTokens.length > 0) return refusal('token_malformed', `the approval is sent twice (the ${APPROVAL_HEADER} header and the ${APPROVAL_FIELD} field)`);

    const marked = markerHeaders.some((h) => request.headers[h] !== undefined) || markerFields.some(([name, value]) => fieldMarked(read.fields, name, value));
    return {
      action: 'inspected',
      route,
      request: { method: request.method, url: resolved.url, contentType: request.contentType, body: bytes },
      parsed: read.parsed,
      tokens: headerTokens.length > 0 ? headerTokens : fieldTokens,
      marked,
    };
  }

  async function settle(inspection: Inspection, principal: Principal | null): Promise<Decision> {
    if (principal !== null && !PrincipalSchema.safeParse(principal).success) throw new TypeError('countersign: principal() must return { kind: "user" | "agent", id }');
    const { route, tokens, marked, parsed } = inspection;
    const url = inspection.request.url;
    const needed = (route.requires ?? 'agents') === 'always' || principal?.kind === 'agent' || marked;
    // A person's request that needs no approval passes untouched, unless it carries one: an
    // assistant acted in their session and they signed it. Then it is verified like any other, so
    // that a bad token is never ignored and a good one yields its receipt.
    if (tokens.length === 0) return needed ? refusal('token_missing', `${route.scope} needs a countersigned approval`) : { action: 'pass', url, parsed };
    try {
      const result = await options.verifier.verify({
        tokens,
        request: inspection.request,
        scope: route.scope,
        ...(route.content !== undefined ? { contentField: route.content } : {}),
        ...(principal !== null ? { principal } : {}),
        ...(marked ? { assisted: true } : {}),
      });
      return { action: 'allow', url, parsed, receipt: result.receipt, traceId: result.traceId, scope: route.scope };
    } catch (error) {
      return refusalOf(error);
    }
  }

  return {
    origins,
    inspect,
    settle,
    async decide(request, route) {
      const inspection = await inspect(request, route);
      return inspection.action === 'refuse' ? inspection : settle(inspection, request.principal);
    },
  };
}

type ReadBody = { ok: true; fields: BodyFields; parsed: unknown } | { ok: false; message: string };

/** The protocol's reading of the body (lib/protocol/request-fields), and the handler's view of it. */
async function readBody(contentType: string | null, bytes: Uint8Array | null): Promise<ReadBody> {
  const fields = await readBodyFields(contentType, bytes);
  switch (fields.kind) {
    case 'invalid':
      return { ok: false, message: fields.reason };
    case 'none':
      return { ok: true, fields, parsed: undefined };
    case 'json':
      return { ok: true, fields, parsed: fields.value };
    case 'form':
      return { ok: true, fields, parsed: formObject(fields.pairs) };
    case 'other': {
      if (!mediaType(contentType)?.startsWith('text/')) return { ok: true, fields, parsed: bytes };
      // The digest reads text/* as UTF-8 (strictly); the handler gets that same string.
      const text = decodeUtf8Strict(bytes!);
      return text === undefined ? { ok: false, message: 'body is not valid UTF-8' } : { ok: true, fields, parsed: text };
    }
  }
}

/**
 * A marker field is present when any of its values is the marker: a form's repeated field in any
 * position, a JSON body's top-level string, or a top-level array holding it (a handler comparing
 * loosely, `["assistant"] == "assistant"`, would read that as the marker too).
 */
function fieldMarked(fields: BodyFields, name: string, value: string): boolean {
  if (hasFieldValue(fields, name, value)) return true;
  if (fields.kind !== 'json' || fields.value === null || typeof fields.value !== 'object' || Array.isArray(fields.value)) return false;
  const member = Object.hasOwn(fields.value, name) ? (fields.value as Record<string, unknown>)[name] : undefined;
  return Array.isArray(member) && member.includes(value);
}
