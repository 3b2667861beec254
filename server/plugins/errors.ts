// One error handler for the verifier: every refusal in DESIGN.md's shape, never a token or a body,
// never a 5xx for bad input, always with a trace id. Node only.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { ErrorBody, ErrorCode } from '../../lib/protocol';
import { CountersignError, ERROR_STATUS, TraceId, newTraceId } from '../../lib/protocol';

/**
 * The trace id a refusal carries when no token gave one: the request's own id, which the app makes a
 * W3C trace id (genReqId in app.ts) and which every log line of the request carries as `reqId`.
 */
export function requestTraceId(request: FastifyRequest): string {
  return TraceId.safeParse(request.id).success ? request.id : newTraceId();
}

/**
 * Sends DESIGN.md's error body. `traceId` is the token's `trc` when the refused token carried one;
 * otherwise the request's own id. Either way the refusal's log line names it, so an operator can go
 * from the answer a client saw to the verifier's log.
 */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string, traceId?: string): FastifyReply {
  const id = traceId ?? requestTraceId(reply.request);
  reply.request.log.info({ code, traceId: id }, 'request refused');
  const body: ErrorBody = { error: { code, message, traceId: id } };
  return reply.code(ERROR_STATUS[code]).type('application/json').send(body);
}

/** Fastify's own refusals before routing (a URL that does not decode), in DESIGN.md's shape too. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  sendError(reply, 'payload_invalid', error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid percent-encoding' : safeMessage(error));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, 'not_found', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`),
  );

  app.setErrorHandler((error: FastifyError | CountersignError | Error, request, reply) => {
    if (error instanceof CountersignError) {
      return sendError(reply, error.code, error.message, error.traceId);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const first = error.validation[0];
      const where = [error.validationContext, ...(first?.instancePath ?? '').split('/').filter(Boolean)].join('.');
      return sendError(reply, 'payload_invalid', `${where || 'body'}: ${first?.message ?? 'invalid'}`);
    }
    const fastifyCode = (error as FastifyError).code;
    const status = (error as FastifyError).statusCode ?? 500;
    if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) return sendError(reply, 'payload_too_large', 'body too large');
    if (status >= 400 && status < 500) {
      // Malformed JSON, an unsupported content type, an empty body: the client's input, said plainly.
      return sendError(reply, 'payload_invalid', safeMessage(error));
    }
    // Storage or other internal failure: fail closed and say so, without internals.
    request.log.error({ err: { type: error.name, code: fastifyCode } }, 'request failed');
    return sendError(reply, 'verifier_unavailable', 'the verifier could not complete the request');
  });
}

function safeMessage(error: Error): string {
  return error.message.replace(/\s+/g, ' ').slice(0, 200);
}
