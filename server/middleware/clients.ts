// The two ways the middleware asks the verifier: in-process (same database) or remote
// (`POST /v1/verify`), each with the route's scope and content field. Both fail closed: anything but
// a clear answer is verifier_unavailable. Node only.
import { z } from 'zod';
import type { ErrorCode } from '../../lib/protocol';
import { CountersignError, ErrorCodeSchema, TraceId, VerifierUnavailable, VerifyResponse, decodeUtf8Strict } from '../../lib/protocol';
import type { VerifyDeps } from '../verify';
import { verifyAction } from '../verify';
import type { VerifierClient } from './core';
import { verifierHttp } from './verifier-http';

/**
 * Calls the verify decision directly: for a tool that runs in the verifier's process or shares its
 * database. The call carries the route's scope and content field, never the post's text.
 */
export function inProcessVerifier(deps: VerifyDeps): VerifierClient {
  return {
    async verify({ tokens, ...call }) {
      const { receipt, traceId } = await verifyAction(deps, { ...call, ...tokensField(tokens) });
      return { receipt, traceId };
    },
  };
}

/** One approval travels as `token`, several (a quorum) as `tokens`, as `POST /v1/verify` takes them. */
function tokensField(tokens: readonly string[]): { token: string } | { tokens: string[] } {
  return tokens.length === 1 ? { token: tokens[0]! } : { tokens: [...tokens] };
}

/**
 * A refusal as the verifier answers it. The trace id is read when present and well formed, but not
 * required here: a refusal without one is still a refusal (with a fresh id), never a 503.
 */
const RemoteErrorBody = z.object({
  error: z.object({ code: ErrorCodeSchema, message: z.string(), traceId: TraceId.optional().catch(undefined) }),
});

export interface RemoteVerifierOptions {
  /** The verifier's base URL, e.g. http://127.0.0.1:8787. */
  url: string;
  /** Give up (and refuse with 503) after this long; default 2 s. */
  timeoutMs?: number;
}

/**
 * Asks a verifier over HTTP. The body travels as text: a binary body that is not UTF-8 cannot be
 * sent faithfully, so it is refused here (use the in-process mode for binary uploads).
 */
export function remoteVerifier(options: RemoteVerifierOptions): VerifierClient {
  const http = verifierHttp();
  const endpoint = new URL('/v1/verify', options.url).href;
  return {
    async verify({ tokens, ...rest }) {
      const raw = rest.request.body;
      const body = raw === null || typeof raw === 'string' ? raw : decodeUtf8Strict(raw);
      if (body === undefined) throw new CountersignError('payload_invalid', 'a binary body cannot be verified remotely');
      let answer: { status: number; payload: unknown };
      try {
        answer = await http.call('POST', endpoint, {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...rest, ...tokensField(tokens), request: { ...rest.request, body } }),
          timeoutMs: options.timeoutMs ?? 2000,
        });
      } catch (cause) {
        throw new VerifierUnavailable('the verifier did not answer', { cause });
      }
      const { status, payload } = answer;
      if (status >= 200 && status < 300) {
        const allowed = VerifyResponse.safeParse(payload);
        if (allowed.success) return { receipt: allowed.data.receipt, traceId: allowed.data.traceId };
        throw new VerifierUnavailable('the verifier answered something unexpected');
      }
      const refusal = RemoteErrorBody.safeParse(payload);
      if (status < 500 && refusal.success && refusal.data.error.code !== 'verifier_unavailable') {
        const { code, message, traceId } = refusal.data.error;
        throw new CountersignError(code as ErrorCode, message, { traceId });
      }
      throw new VerifierUnavailable(`the verifier failed (HTTP ${status})`);
    },
  };
}
