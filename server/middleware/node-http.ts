// node:http adapter: reads the body, decides, and answers a refusal itself. Node only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../../lib/protocol';
import { CountersignError } from '../../lib/protocol';
import { createMiddleware } from './core';
import type { MiddlewareOptions } from './core';

export interface CountersignNodeOptions extends MiddlewareOptions {
  principal(request: IncomingMessage): Principal | Promise<Principal>;
  /** Largest body read (default 1 MiB); a larger one is refused with 413. */
  maxBodyBytes?: number;
}

export type Guarded = { ok: true; body: Buffer; receipt?: string; traceId?: string } | { ok: false };

/** Reads a request body up to a limit; throws payload_too_large past it. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CountersignError('payload_too_large', `body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Returns a guard for a plain node:http handler: `const g = await guard(req, res); if (!g.ok) return;`
 * then use `g.body` (the bytes read) and `g.receipt`.
 */
export function countersignNode(options: CountersignNodeOptions): (request: IncomingMessage, response: ServerResponse) => Promise<Guarded> {
  const middleware = createMiddleware(options);
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  return async (request, response) => {
    let body: Buffer;
    try {
      body = await readBody(request, limit);
    } catch (error) {
      const code = error instanceof CountersignError ? error.code : 'payload_invalid';
      response.writeHead(code === 'payload_too_large' ? 413 : 400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code, message: 'request body could not be read' } }));
      return { ok: false };
    }
    const decision = await middleware.decide({
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      contentType: request.headers['content-type'] ?? null,
      rawBody: body.length > 0 ? body : null,
      headers: request.headers,
      principal: await options.principal(request),
    });
    if (decision.action === 'refuse') {
      response.writeHead(decision.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(decision.body));
      return { ok: false };
    }
    return decision.action === 'allow' ? { ok: true, body, receipt: decision.receipt, traceId: decision.traceId } : { ok: true, body };
  };
}
