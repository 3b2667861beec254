// Express front door: protection is a per-route handler, so Express's router (with the tool's
// `case sensitive routing` and `strict routing` settings, and whatever rewrote `req.method` before
// it) decides which route runs, and the route that runs is the route that was checked. Node only.
//
//   const countersign = countersignExpress({ origin, markers, verifier, principal });
//   app.post('/api/topics/:id/replies', countersign.protect({ scope: 'forum.post', content: 'body' }), handler);
//
// `protect()` reads the raw body once with `raw-body` (over the limit: 413 while it streams), has the
// core decide, and sets `req.body` to the protocol's parse of the digested bytes (a repeated form
// field is an array; JSON with duplicate keys is refused), `req.rawBody` to the bytes, and
// `req.countersign` on an approval. Mount it before any body parser on these routes. A body that
// another parser already read is refused as a configuration error (`next(err)`), unless that parser
// kept the exact bytes as `req.rawBody` (e.g. `express.json({ verify: (req, _res, buf) => { req.rawBody = buf } })`):
// then those bytes are digested and `req.body` is overwritten. The method digested is `req.method`
// as the router saw it: a method override turns a POST into the PUT it routes, and a token for the
// POST does not fit. A URL rewritten before routing (`req.url` no longer the target received) is
// refused: the URL approved would not be the URL routed.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Principal } from '../../lib/protocol';
import { CountersignError } from '../../lib/protocol';
import { checkProtection, createMiddleware, refusal, refusalOf } from './core';
import type { Middleware, MiddlewareOptions, Refusal, RouteProtection } from './core';
import { ALREADY_READ, DEFAULT_BODY_LIMIT, readRawBody } from './raw-body';

export interface CountersignExpressOptions extends MiddlewareOptions {
  principal(request: Request): Principal | Promise<Principal>;
  /** Largest body a protected route reads (default 1 MiB); a larger one is refused with 413. */
  bodyLimit?: number;
}

/** A route's protection, with its own body limit if it needs one. */
export interface ExpressProtection extends RouteProtection {
  bodyLimit?: number;
}

export interface CountersignExpress {
  /** The handler to put first on a protected route. */
  protect(route: ExpressProtection): RequestHandler;
  readonly middleware: Middleware;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set when the request carried a valid approval: the receipt to store with the content. */
    countersign?: { receipt: string; traceId: string; scope: string };
    /** The body's bytes as digested. */
    rawBody?: Buffer;
  }
}

function send(response: Response, decision: Refusal, close = false): void {
  if (close) response.set('connection', 'close');
  response.status(decision.status).json(decision.body);
}

/** Another parser already read the stream (body-parser, a `data` listener…). */
function consumed(request: Request): boolean {
  return request.readableEnded || request.readableDidRead || (request.complete && !request.readable);
}

/** The URL the router dispatched on is the target as received (a mounted router sees its part in `req.url`). */
function notRewritten(request: Request): boolean {
  const { baseUrl, url, originalUrl } = request;
  if (baseUrl + url === originalUrl) return true;
  // A router mounted at /base sees /base?x as `/?x`.
  return baseUrl !== '' && url.startsWith('/') && baseUrl + url.slice(1) === originalUrl;
}

export function countersignExpress(options: CountersignExpressOptions): CountersignExpress {
  const middleware = createMiddleware(options);
  if (typeof options.principal !== 'function') throw new TypeError('countersign: `principal(request)` is required');
  const appLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;

  return {
    middleware,
    protect(route) {
      const protection = checkProtection(route, 'protect()');
      const limit = route.bodyLimit ?? appLimit;
      return async (request: Request, response: Response, next: NextFunction): Promise<void> => {
        try {
          let raw: Buffer;
          if (Buffer.isBuffer(request.rawBody)) {
            raw = request.rawBody;
          } else if (consumed(request)) {
            next(new Error(ALREADY_READ));
            return;
          } else {
            try {
              raw = await readRawBody(request, { limit, length: request.headers['content-length'] });
            } catch (error) {
              if (!(error instanceof CountersignError)) throw error;
              send(response, refusalOf(error), error.code === 'payload_too_large');
              return;
            }
            request.rawBody = raw;
          }
          if (!notRewritten(request)) {
            send(response, refusal('payload_invalid', 'the request URL was rewritten before routing: the URL approved would not be the URL routed'));
            return;
          }
          const inspection = await middleware.inspect(
            { method: request.method, target: request.originalUrl, headers: request.headers, contentType: request.headers['content-type'] ?? null, body: raw },
            protection,
          );
          if (inspection.action === 'refuse') return send(response, inspection);
          const decision = await middleware.settle(inspection, await options.principal(request));
          if (decision.action === 'refuse') return send(response, decision);
          request.body = decision.parsed;
          if (decision.action === 'allow') request.countersign = { receipt: decision.receipt, traceId: decision.traceId, scope: decision.scope };
          next();
        } catch (error) {
          next(error);
        }
      };
    },
  };
}
