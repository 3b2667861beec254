// Fastify front door: protection is declared on Fastify's own routes, so Fastify's router (with the
// tool's case, slash and encoding options) decides which route runs, and the route that runs is the
// route that was checked. Node only.
//
//   await app.register(countersignFastify, { origin, markers, verifier, principal });
//   app.post('/api/topics/:id/replies', { config: { countersign: { scope: 'forum.post', content: 'body' } } }, handler);
//
// For each route whose `config.countersign` is set, the plugin's `onRoute` hook puts three hooks in
// front of the route's own:
// - preParsing: reads the raw body once with `raw-body`, up to the route's `bodyLimit` (or the
//   instance's): a body over it is refused with 413 while it streams, before it is buffered; the
//   bytes are replayed to Fastify's content-type parser;
// - preValidation: the core's inspection (origin, Host, the target's normal form, the strict body
//   parse, the approval and the markers); `request.body` becomes the protocol's parse of the bytes
//   that are digested (so the route's own preValidation, its schema and its handler read that);
// - preHandler: the principal and the verifier's answer; `request.countersign` on an approval.
//
// Order matters: register the plugin before any route or plugin that declares `config.countersign`
// (`onRoute` sees only routes added after it). A protected route that the plugin's context reaches
// but that was added before it is refused at request time (500), never run unchecked. Hooks that the
// tool adds at instance level run before these route-level ones and see Fastify's own parse.
// A URL changed by `rewriteUrl` is refused on protected routes. Fastify has no method override built
// in; HEAD routes that Fastify adds for a protected GET are
// protected too (their method, HEAD, is what is digested).
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { Principal } from '../../lib/protocol';
import { checkProtection, createMiddleware, refusal, refusalOf } from './core';
import type { AssistantMarkers, Inspection, Refusal, RouteProtection, VerifierClient } from './core';
import { readRawBody } from './raw-body';

export interface CountersignFastifyOptions {
  /** The tool's public origin, or every origin it answers to (the tokens' `aud`, the digest's URL). */
  origin: string | string[];
  markers?: AssistantMarkers;
  verifier: VerifierClient;
  /** The tool's own answer to "who is asking" (its session or agent-key authentication). */
  principal(request: FastifyRequest): Principal | Promise<Principal>;
}

export interface CountersignApproval {
  receipt: string;
  traceId: string;
  scope: string;
}

/** A Fastify route's `config.countersign`. */
export type CountersignRouteConfig = RouteProtection;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Declares the route protected: its scope, who needs a token, and where a post's text is. */
    countersign?: CountersignRouteConfig;
  }
  interface FastifyRequest {
    /** Set when the request carried a valid approval: the receipt to store with the content. */
    countersign?: CountersignApproval;
    /** The body's bytes as digested, on a protected route. */
    countersignRawBody?: Buffer;
  }
}

/** Marks a route config the plugin has put its hooks on. */
const HOOKED = Symbol('countersign.hooked');
const INSPECTION = Symbol('countersign.inspection');
type WithInspection = FastifyRequest & { [INSPECTION]?: Inspection };

function asList<T>(hook: T | T[] | undefined): T[] {
  return hook === undefined ? [] : Array.isArray(hook) ? hook : [hook];
}

async function refuse(reply: FastifyReply, decision: Refusal, close = false): Promise<void> {
  if (close) reply.header('connection', 'close');
  // Awaiting the reply waits until it is written: the hook runner then sees it sent and stops.
  await reply.code(decision.status).type('application/json; charset=utf-8').send(decision.body);
}

async function plugin(app: FastifyInstance, options: CountersignFastifyOptions): Promise<void> {
  const middleware = createMiddleware(options);
  if (typeof options.principal !== 'function') throw new TypeError('countersign: `principal(request)` is required');

  const readBody = async (request: FastifyRequest, reply: FastifyReply, payload: NodeJS.ReadableStream) => {
    let raw: Buffer;
    try {
      raw = await readRawBody(payload, { limit: request.routeOptions.bodyLimit, length: request.headers['content-length'] });
    } catch (error) {
      const decision = refusalOf(error);
      if (decision.body.error.code === 'verifier_unavailable') throw error;
      return refuse(reply, decision, decision.status === 413);
    }
    request.countersignRawBody = raw;
    const replay = Readable.from([raw]) as Readable & { receivedEncodedLength?: number };
    replay.receivedEncodedLength = raw.length;
    return replay;
  };

  const inspect = async (request: FastifyRequest, reply: FastifyReply) => {
    const protection = request.routeOptions.config.countersign!;
    // `rewriteUrl` routed another URL than the one received: the URL approved would not be the URL routed.
    if (request.url !== request.originalUrl) return refuse(reply, refusal('payload_invalid', 'the request URL was rewritten before routing: the URL approved would not be the URL routed'));
    const raw = request.countersignRawBody ?? Buffer.alloc(0);
    const inspection = await middleware.inspect(
      { method: request.method, target: request.originalUrl, headers: request.headers, contentType: request.headers['content-type'] ?? null, body: raw },
      protection,
    );
    if (inspection.action === 'refuse') return refuse(reply, inspection);
    (request as WithInspection)[INSPECTION] = inspection;
    request.body = inspection.parsed;
  };

  const settle = async (request: FastifyRequest, reply: FastifyReply) => {
    const inspection = (request as WithInspection)[INSPECTION];
    if (!inspection) throw new Error('countersign: the preHandler ran without the inspection');
    const decision = await middleware.settle(inspection, await options.principal(request));
    if (decision.action === 'refuse') return refuse(reply, decision);
    if (decision.action === 'allow') request.countersign = { receipt: decision.receipt, traceId: decision.traceId, scope: decision.scope };
  };

  app.addHook('onRoute', (route: RouteOptions) => {
    const declared = route.config?.countersign;
    if (declared === undefined) return;
    const methods = asList(route.method).join(',');
    const protection = checkProtection(declared, `${methods} ${route.url}`);
    route.config = { ...route.config, countersign: protection, [HOOKED]: true } as typeof route.config;
    // In front of the route's own hooks: they, the schema and the handler see the protocol's parse.
    route.preParsing = [readBody, ...asList(route.preParsing)] as RouteOptions['preParsing'];
    route.preValidation = [inspect, ...asList(route.preValidation)] as RouteOptions['preValidation'];
    route.preHandler = [settle, ...asList(route.preHandler)] as RouteOptions['preHandler'];
  });

  // A route that declares protection but was added before the plugin has none of its hooks: fail closed.
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config as { countersign?: unknown; [HOOKED]?: true } | undefined;
    if (config?.countersign !== undefined && config[HOOKED] !== true) {
      throw Object.assign(new Error(`countersign: route ${request.routeOptions.method} ${request.routeOptions.url} declares config.countersign but was registered before the countersign plugin; register the plugin first`), { statusCode: 500 });
    }
  });
}

export const countersignFastify = fp(plugin, { name: 'countersign', fastify: '5.x' });
