// The HTTP calls the middleware and the gateway make to the verifier: undici's request API over one
// keep-alive agent per client (global fetch costs about half a millisecond more per call, measured in
// the bench), a deadline for the whole call, and the answer's JSON (undefined when it is not JSON).
// Node only.
import { Agent, request } from 'undici';

export interface VerifierHttp {
  call(method: 'GET' | 'POST', url: string, options: { headers?: Record<string, string>; body?: string; timeoutMs: number }): Promise<{ status: number; payload: unknown }>;
  close(): Promise<void>;
}

export function verifierHttp(): VerifierHttp {
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  return {
    async call(method, url, options) {
      const response = await request(url, {
        method,
        dispatcher,
        headers: options.headers ?? {},
        ...(options.body !== undefined ? { body: options.body } : {}),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const text = await response.body.text();
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch {
        payload = undefined;
      }
      return { status: response.statusCode, payload };
    },
    close: () => dispatcher.close(),
  };
}
