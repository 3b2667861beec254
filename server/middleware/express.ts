// Express adapter: mount before the body parsers; it reads the raw body, decides, then hands the
// parsed body on (body parsers skip a body already read). Node only.
import type { NextFunction, Request, Response } from 'express';
import type { Principal } from '../../lib/protocol';
import { isJsonMediaType, mediaType } from '../../lib/protocol';
import { createMiddleware } from './core';
import type { MiddlewareOptions } from './core';
import { readBody } from './node-http';

export interface CountersignExpressOptions extends MiddlewareOptions {
  principal(request: Request): Principal | Promise<Principal>;
  maxBodyBytes?: number;
}

declare module 'express-serve-static-core' {
  interface Request {
    countersign?: { receipt: string; traceId: string; scope: string };
    rawBody?: Buffer;
  }
}

export function countersignExpress(options: CountersignExpressOptions) {
  const middleware = createMiddleware(options);
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  return async (request: Request, response: Response, next: NextFunction): Promise<void> => {
    try {
      const raw = request.rawBody ?? (await readBody(request, limit));
      request.rawBody = raw;
      const decision = await middleware.decide({
        method: request.method,
        url: request.originalUrl,
        contentType: request.headers['content-type'] ?? null,
        rawBody: raw.length > 0 ? raw : null,
        headers: request.headers,
        principal: await options.principal(request),
      });
      if (decision.action === 'refuse') {
        response.status(decision.status).json(decision.body);
        return;
      }
      if (decision.action === 'allow') request.countersign = { receipt: decision.receipt, traceId: decision.traceId, scope: decision.scope };
      if (request.body === undefined) request.body = parseBody(request.headers['content-type'] ?? null, raw);
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** JSON, urlencoded and text bodies parsed for the handler (the stream is already read). */
function parseBody(contentType: string | null, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const type = mediaType(contentType);
  const text = raw.toString('utf8');
  if (isJsonMediaType(type)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
  if (type?.startsWith('text/')) return text;
  return raw;
}
