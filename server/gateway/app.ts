// The gateway: a reverse proxy (Fastify + @fastify/reply-from) in front of a tool that cannot embed
// the middleware, deciding with the middleware's own core (DESIGN.md, "The gateway"). Per request:
// the URL from the configured origin, who is asking (a trusted proxy's header, or an agent key the
// verifier vouches for), the route (method, path, query and form fields), the body read up to the
// limit, the decision, then the request forwarded with the bytes that were digested and identity
// set only from what was verified. Holds no state: instances share one verifier. Node only.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import replyFrom from '@fastify/reply-from';
import type { Principal } from '../../lib/protocol';
import { CountersignError, Identifier, mediaType, pathAmbiguity, readBodyFields } from '../../lib/protocol';
import { remoteVerifier } from '../middleware/clients';
import { createMiddleware, refusal, refusalOf } from '../middleware/core';
import type { Refusal, RouteProtection, VerifierClient } from '../middleware/core';
import { readRawBody } from '../middleware/raw-body';
import { resolveRequestUrl } from '../middleware/request-url';
import { remoteAgentKeys } from './agent-keys';
import type { AgentKeys } from './agent-keys';
import type { GatewayConfig, GatewayRoute } from './config';
import { drainRefusedBody } from './linger';
import { contentTypesAgree, readForm, withoutApprovalField } from './form-body';
import { hasOtherSpelling, isTrustedPeer, ownedHeaders, peerAddress, rawValues, requestHeadersToTool, responseHeadersToClient } from './headers';
import type { Outgoing } from './headers';
import { anyRouteFor, compileRoutes, matchRoute, routesOnPath } from './routes';

export interface GatewayOptions {
  config: GatewayConfig;
  /** Default: the configured verifier over HTTP. */
  verifier?: VerifierClient;
  agentKeys?: AgentKeys;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const FORWARDED_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'] as const;

type Who = { action: 'known'; principal: Principal | null } | Refusal;

function send(reply: FastifyReply, r: Refusal, closing = false): FastifyReply {
  if (closing) reply.header('connection', 'close');
  return reply.code(r.status).type('application/json').send(r.body);
}

export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const { config } = options;
  const verifier = options.verifier ?? remoteVerifier({ url: config.verifier, timeoutMs: config.verifierTimeoutMs });
  const agentKeys = options.agentKeys ?? remoteAgentKeys({ url: config.verifier, timeoutMs: config.verifierTimeoutMs });
  const middleware = createMiddleware({ origin: config.origin, verifier, ...(config.markers ? { markers: config.markers } : {}) });
  const routes = compileRoutes(config.routes);
  const userHeader = config.identity.user?.header;
  const agentHeader = config.identity.agents?.header;
  const owned = ownedHeaders([userHeader, agentHeader]);
  /** Requests whose client was told `100 Continue`: it sends its body. */
  const continued = new WeakSet<IncomingMessage>();
  function writeContinue(request: IncomingMessage, reply: FastifyReply): void {
    continued.add(request);
    reply.raw.writeContinue();
  }

  /** A refusal before the body was read: the body is drained first (see linger.ts), then the connection closes. */
  async function refuseUnread(request: IncomingMessage, reply: FastifyReply, r: Refusal): Promise<FastifyReply> {
    await drainRefusedBody(request, { limit: config.bodyLimit, continued: continued.has(request) });
    return send(reply, r, true);
  }

  const app = Fastify({
    logger: false,
    return503OnClosing: true,
    requestIdHeader: false,
    // A URL that does not decode is refused before routing, in DESIGN.md's shape like every refusal.
    // What Node's parser refuses (a made-up method, a malformed head): DESIGN.md's shape on the socket.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable || (error as NodeJS.ErrnoException).code === 'ECONNRESET') return void socket.destroy();
      const body = JSON.stringify(refusal('payload_invalid', 'the request is not one HTTP/1.1 can read').body);
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
    frameworkErrors: (error, request, reply) => {
      void refuseUnread(request.raw, reply, refusal('payload_invalid', error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid percent-encoding' : 'the request could not be read'));
    },
  });
  // Expect: 100-continue is answered only once the gateway has decided to read the body.
  app.server.on('checkContinue', (req, res) => app.server.emit('request', req, res));
  app.removeAllContentTypeParsers();
  // The body stays a stream: the handler reads it (a protected route) or pipes it on untouched.
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  await app.register(replyFrom, {
    base: config.upstream,
    disableRequestLogging: true,
    undici: { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 },
  });

  async function identify(request: FastifyRequest, trustedPeer: boolean): Promise<Who> {
    const raw = request.raw.rawHeaders;
    if (agentHeader !== undefined) {
      const keys = rawValues(raw, agentHeader);
      // One spelling only: a tool reads X.Countersign.Agent.Key as the same header, so it may not pass for another.
      if (hasOtherSpelling(raw, agentHeader)) return refusal('unauthorized', `send the agent key as ${agentHeader} and under no other spelling`);
      if (keys.length > 1) return refusal('unauthorized', 'the agent key header is sent more than once');
      if (keys.length === 1) {
        try {
          return { action: 'known', principal: { kind: 'agent', id: await agentKeys.agentOf(keys[0]!) } };
        } catch (error) {
          return refusalOf(error);
        }
      }
    }
    const user = config.identity.user;
    if (user === undefined || !trustedPeer) return { action: 'known', principal: null };
    const names = rawValues(raw, user.header);
    // Only the proxy's own spelling is its word: another one (X-Forwarded_User) is a client's header it let through.
    if (hasOtherSpelling(raw, user.header)) return refusal('payload_invalid', 'the identity header is sent under another spelling than the configured one');
    if (names.length > 1) return refusal('payload_invalid', 'the identity header is sent more than once');
    if (names.length === 0) return { action: 'known', principal: null };
    const id = names[0]!.trim();
    if (!Identifier.safeParse(id).success) return refusal('payload_invalid', 'the identity header does not hold a user id');
    return { action: 'known', principal: { kind: 'user', id } };
  }

  function forward(request: FastifyRequest, reply: FastifyReply, pathQuery: string, body: Uint8Array | null | 'stream', out: Outgoing, trustedPeer: boolean): FastifyReply {
    if (body instanceof Uint8Array) {
      request.body = Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
      out.contentLength = body.length;
    } else if (body === 'stream') {
      const length = request.headers['content-length'];
      if (typeof length === 'string' && /^\d+$/.test(length)) out.contentLength = Number(length);
      if (/^100-continue$/i.test(String(request.headers.expect ?? ''))) writeContinue(request.raw, reply);
    } else {
      request.body = undefined;
      if (!SAFE_METHODS.has(request.method)) out.contentLength = 0;
    }
    // The query goes on as received: reply-from would otherwise percent-decode it whole (and refuse
    // what does not decode as UTF-8, which a tool may well read). The path was checked by resolveRequestUrl.
    const q = pathQuery.indexOf('?');
    return reply.from(q === -1 ? pathQuery : pathQuery.slice(0, q), {
      queryString: () => (q === -1 ? '' : pathQuery.slice(q + 1)),
      rewriteRequestHeaders: (req) => requestHeadersToTool(req.headers, { owned, userHeader, trustedPeer }, out),
      rewriteHeaders: (headers) => responseHeadersToClient(headers, out.agent !== undefined, out.credential),
      onError: (r) => {
        send(r as FastifyReply, refusal('upstream_unavailable', 'the tool behind the gateway did not answer'));
      },
    });
  }

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const raw = request.raw;
    const method = raw.method ?? 'GET';
    const resolved = resolveRequestUrl(middleware.origins, raw.url ?? '', raw.headers.host);
    if (!resolved.ok) return refuseUnread(raw, reply, refusal('payload_invalid', resolved.message));
    const { pathQuery } = resolved;
    const q = pathQuery.indexOf('?');
    const pathname = q === -1 ? pathQuery : pathQuery.slice(0, q);
    const mutating = !SAFE_METHODS.has(method);
    // A path two readers could take to different scripts cannot be matched against routes: refused
    // whenever a route could apply to this method (MediaWiki's rollback route is for every method).
    if (mutating || anyRouteFor(routes, method)) {
      const ambiguity = pathname.startsWith('//') ? 'the path starts with //, which a URL parser may read as a host' : pathAmbiguity(pathname);
      if (ambiguity) return refuseUnread(raw, reply, refusal('payload_invalid', `the request's path is ambiguous: ${ambiguity}`));
    }

    const peer = peerAddress(raw.socket.remoteAddress);
    const trustedPeer = isTrustedPeer(peer, config.identity.user?.trustedProxies ?? []);
    const who = await identify(request, trustedPeer);
    if (who.action === 'refuse') return refuseUnread(raw, reply, who);
    const { principal } = who;
    const out: Outgoing = {};
    if (principal?.kind === 'user') out.user = principal.id;
    if (principal?.kind === 'agent') {
      out.agent = principal.id;
      const credential = config.credentials[principal.id];
      if (credential) out.credential = credential;
    }

    const hasBody = raw.headers['transfer-encoding'] !== undefined || (raw.headers['content-length'] !== undefined && raw.headers['content-length'] !== '0');
    if ((method === 'GET' || method === 'HEAD') && hasBody) return refuseUnread(raw, reply, refusal('payload_invalid', `a ${method} request carries no body`));

    const candidates = routesOnPath(routes, method, pathname);
    if (candidates.length === 0) {
      if (principal?.kind === 'agent' && mutating) return refuseUnread(raw, reply, refusal('route_not_protected', `${method} ${pathname} is not a route this gateway lets agents use`));
      return forward(request, reply, pathQuery, hasBody ? 'stream' : null, out, trustedPeer);
    }

    // A protected route's request: the body is read once, up to the limit, and what is forwarded is
    // what was digested.
    const types = rawValues(raw.rawHeaders, 'content-type');
    if (types.length > 1) return refuseUnread(raw, reply, refusal('payload_invalid', 'the Content-Type header is sent more than once'));
    const contentType = types[0] ?? null;
    if (!contentTypesAgree(contentType)) return refuseUnread(raw, reply, refusal('payload_invalid', 'the Content-Type could be read as another kind of body'));
    let bytes: Uint8Array | null = null;
    if (hasBody) {
      const declared = raw.headers['content-length'];
      if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > config.bodyLimit) {
        return send(reply, refusal('payload_too_large', `the body is over this route's limit of ${config.bodyLimit} bytes`), true);
      }
      if (/^100-continue$/i.test(String(raw.headers.expect ?? ''))) writeContinue(raw, reply);
      try {
        bytes = await readRawBody(request.body as NodeJS.ReadableStream, { limit: config.bodyLimit, length: raw.headers['content-length'] });
      } catch (error) {
        return send(reply, refusalOf(error instanceof CountersignError ? error : new CountersignError('payload_invalid', 'the body could not be read')), true);
      }
      if (bytes.length === 0) bytes = null;
    }

    const fields = await readBodyFields(contentType, bytes);
    if (fields.kind === 'invalid') return send(reply, refusal('payload_invalid', fields.reason));
    let bodyPairs: ReadonlyArray<readonly [string, string]> = fields.kind === 'form' || fields.kind === 'json' ? fields.pairs : [];
    const type = mediaType(contentType);
    if (bytes && (type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data')) {
      // The tool parses the form itself: its reading and the protocol's must be the same, or no route can be trusted to match.
      const form = readForm(contentType!, bytes);
      const agrees = form !== null && (fields.kind === 'form' ? form.files === 0 && samePairs(form.pairs, fields.pairs) : form.files > 0);
      if (!agrees) return send(reply, refusal('payload_invalid', 'the form body is not in the plain shape every parser reads the same way'));
      bodyPairs = form.pairs;
    }
    const queryPairs = [...new URLSearchParams(q === -1 ? '' : pathQuery.slice(q + 1))];
    const match = matchRoute(candidates, [...queryPairs, ...bodyPairs]);
    if (match.kind === 'ambiguous') return send(reply, refusal('payload_invalid', `the request could be read as more than one action (${match.scopes.join(', ')})`));
    if (match.kind === 'none') {
      if (principal?.kind === 'agent' && mutating) return send(reply, refusal('route_not_protected', `${method} ${pathname} is not a route this gateway lets agents use`));
      return forward(request, reply, pathQuery, bytes, out, trustedPeer);
    }

    const inspection = await middleware.inspect({ method, target: raw.url ?? '', headers: raw.headers, contentType, body: bytes }, protectionOf(match.route));
    if (inspection.action === 'refuse') return send(reply, inspection);
    const decision = await middleware.settle(inspection, principal);
    if (decision.action === 'refuse') return send(reply, decision);
    if (decision.action === 'allow') out.receipt = decision.receipt;
    const forwarded = bytes && contentType ? withoutApprovalField(contentType, bytes) : bytes;
    return forward(request, reply, pathQuery, forwarded, out, trustedPeer);
  }

  // Fastify's own refusals (a Content-Type it cannot parse, a malformed URL) in DESIGN.md's shape.
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status === 413) return send(reply, refusal('payload_too_large', 'the body is over the limit'), true);
    if (status >= 400 && status < 500) return refuseUnread(request.raw, reply, refusal('payload_invalid', 'the request could not be read'));
    return send(reply, refusal('upstream_unavailable', 'the gateway could not forward the request'));
  });
  // Other methods (WebDAV's, made-up ones) are refused: no route could be written for them, and a tool
  // may still read one as a write.
  app.setNotFoundHandler((request, reply) => refuseUnread(request.raw, reply, refusal('payload_invalid', `the gateway does not forward ${String(request.raw.method).slice(0, 20)} requests`)));
  app.route({ method: [...FORWARDED_METHODS], url: '*', handler: handle });
  return app;
}

function protectionOf(route: GatewayRoute): RouteProtection {
  return { scope: route.scope, ...(route.requires ? { requires: route.requires } : {}), ...(route.content ? { content: route.content } : {}) };
}

function samePairs(a: ReadonlyArray<readonly [string, string]>, b: ReadonlyArray<readonly [string, string]>): boolean {
  return a.length === b.length && a.every(([n, v], i) => n === b[i]![0] && v === b[i]![1]);
}
