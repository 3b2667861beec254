// A fetch that reaches a Fastify app in process (app.inject): the extension's network calls go to a
// real verifier without a socket. `faults` lets a test take the verifier down or lose answers. Node only (tests).
import type { FastifyInstance } from 'fastify';

export interface FetchFaults {
  /** The verifier is unreachable: fetch rejects, as on a network error. */
  down?: boolean;
  /** The request reaches the verifier, but its answer is lost (the worker died before reading it). */
  loseAnswer?: boolean;
}

export function injectFetch(app: () => FastifyInstance, faults: FetchFaults = {}): typeof fetch & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : input);
    calls.push(`${init.method ?? 'GET'} ${url.pathname}`);
    if (faults.down) throw new TypeError('fetch failed');
    const res = await app().inject({
      method: (init.method ?? 'GET') as 'GET',
      url: url.pathname + url.search,
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      ...(init.body !== undefined && init.body !== null ? { payload: init.body as string } : {}),
    });
    if (faults.loseAnswer) throw new TypeError('fetch failed');
    // A null-body status (204, 304) may carry no body, not even an empty one.
    return new Response([204, 205, 304].includes(res.statusCode) ? null : res.body, { status: res.statusCode, headers: res.headers as Record<string, string> });
  };
  return Object.assign(fn as typeof fetch, { calls });
}
