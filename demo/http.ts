// What both demo tools share at the HTTP level: body parsers for their unprotected routes (the
// protected ones get the Countersign middleware's own parse), DESIGN.md-shaped errors with a trace id,
// security headers and the static files. Node only.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../lib/protocol';
import { ERROR_STATUS, TraceId, decodeUtf8Strict, formObject, newTraceId, parseJsonStrict } from '../lib/protocol';

/** DESIGN.md's codes, plus one for the tool's own unexpected failures. */
export type DemoErrorCode = ErrorCode | 'internal_error';

export interface DemoErrorBody {
  error: { code: DemoErrorCode; message: string; traceId: string };
}

/** The request's own id (a W3C trace id: the tools' `genReqId`), else a fresh one. */
function traceOf(reply: FastifyReply): string {
  const id = reply.request?.id;
  return typeof id === 'string' && TraceId.safeParse(id).success ? id : newTraceId();
}

export function sendError(reply: FastifyReply, code: DemoErrorCode, message: string): FastifyReply {
  const status = code === 'internal_error' ? 500 : ERROR_STATUS[code];
  const body: DemoErrorBody = { error: { code, message, traceId: traceOf(reply) } };
  return reply.code(status).type('application/json').send(body);
}

/** A 4xx raised from a parser or hook, answered as payload_invalid (or its own code). */
export class ClientError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** `script-src 'self'`: the pages run only the demo's own static scripts, never inline code. */
export const CONTENT_SECURITY_POLICY = "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STATIC_FILES: Record<string, string> = {
  'forum.js': 'text/javascript; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'demo.css': 'text/css; charset=utf-8',
};

/** Reads the static files once; they are small and never change while the demo runs. */
function loadStatic(): Map<string, { type: string; content: Buffer }> {
  const files = new Map<string, { type: string; content: Buffer }>();
  for (const [name, type] of Object.entries(STATIC_FILES)) files.set(name, { type, content: readFileSync(new URL(`./static/${name}`, import.meta.url)) });
  return files;
}

/** Every route's body limit (64 KiB): a larger body is refused while it streams. */
export const BODY_LIMIT = 64 * 1024;

/**
 * A Fastify instance with the demo's parsers, errors and headers. The parsers read as the protocol
 * does (strict JSON; a form's repeated field every value, in order) for the unprotected routes, such
 * as sign-in; on a protected route the middleware replaces the body with its own parse of the bytes
 * it digested. Request ids are W3C trace ids, so every error carries one.
 */
export function createToolApp(): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT, genReqId: () => newTraceId() });

  app.removeContentTypeParser('application/json');
  const json = (_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) => {
    const text = decodeUtf8Strict(body as Buffer);
    if (text === undefined) return done(new ClientError('payload_invalid', 'body is not UTF-8'), undefined);
    const parsed = parseJsonStrict(text);
    if (!parsed.ok) return done(new ClientError('payload_invalid', `body is ${parsed.reason}`), undefined);
    done(null, parsed.value);
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, json);
  app.addContentTypeParser(/^application\/[^;\s]+\+json\b/, { parseAs: 'buffer' }, json);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) => {
    const text = decodeUtf8Strict(body as Buffer);
    if (text === undefined) return done(new ClientError('payload_invalid', 'body is not UTF-8'), undefined);
    done(null, formObject([...new URLSearchParams(text)]));
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => sendError(reply, 'not_found', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`));
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof ClientError) return sendError(reply, error.code, error.message);
    const status = (error as FastifyError).statusCode ?? 500;
    if (status === 413) return sendError(reply, 'payload_too_large', 'body too large');
    if (status >= 400 && status < 500) return sendError(reply, 'payload_invalid', error.message.replace(/\s+/g, ' ').slice(0, 200));
    request.log.error({ err: error }, 'request failed');
    return sendError(reply, 'internal_error', 'the tool failed; see its log');
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('cache-control', 'no-store');
    }
    return payload;
  });

  const files = loadStatic();
  app.get<{ Params: { name: string } }>('/static/:name', async (request, reply) => {
    const file = files.get(request.params.name);
    if (!file) return sendError(reply, 'not_found', 'no such file');
    return reply.type(file.type).header('cache-control', 'no-cache').send(file.content);
  });
  return app;
}

/** The first value of a header that may repeat. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A browser's form navigation (as opposed to fetch asking for JSON): answer it with a redirect. */
export function wantsHtml(request: FastifyRequest): boolean {
  const accept = headerValue(request.headers.accept) ?? '';
  return /\btext\/html\b/.test(accept) && /^application\/x-www-form-urlencoded\b/.test(headerValue(request.headers['content-type']) ?? '');
}
