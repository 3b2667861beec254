// Fastify adapter: a plugin that keeps each request's raw body and decides before the handler. Node only.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Principal } from '../../lib/protocol';
import { createMiddleware } from './core';
import type { MiddlewareOptions } from './core';

export interface CountersignFastifyOptions extends MiddlewareOptions {
  /** The tool's own answer to "who is asking" (its session or agent-key authentication). */
  principal(request: FastifyRequest): Principal | Promise<Principal>;
}

export interface CountersignApproval {
  receipt: string;
  traceId: string;
  scope: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request carried a valid approval: the receipt to store with the content. */
    countersign?: CountersignApproval;
    countersignRawBody?: Buffer;
  }
}

async function plugin(app: FastifyInstance, options: CountersignFastifyOptions): Promise<void> {
  const middleware = createMiddleware(options);

  // The digest is over the bytes as sent; parsers keep only the parsed value, so tee the stream.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const chunks: Buffer[] = [];
    for await (const chunk of payload) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    request.countersignRawBody = raw;
    const replay = Readable.from([raw]) as Readable & { receivedEncodedLength?: number };
    replay.receivedEncodedLength = raw.length;
    return replay;
  });

  app.addHook('preHandler', async (request, reply) => {
    const raw = request.countersignRawBody;
    const decision = await middleware.decide({
      method: request.method,
      url: request.url,
      contentType: request.headers['content-type'] ?? null,
      rawBody: raw && raw.length > 0 ? raw : null,
      headers: request.headers,
      principal: await options.principal(request),
    });
    if (decision.action === 'refuse') return reply.code(decision.status).type('application/json').send(decision.body);
    if (decision.action === 'allow') request.countersign = { receipt: decision.receipt, traceId: decision.traceId, scope: decision.scope };
  });
}

export const countersignFastify = fp(plugin, { name: 'countersign', fastify: '5.x' });
