// Bad input never yields a 5xx or stops the verifier: random bodies, content types and paths on
// every endpoint, each refusal in DESIGN.md's error shape. (The 100,000-case run is test:faults.)
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '@/lib/protocol';
import { ADMIN_TOKEN, FORUM_REQUEST, startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const ENDPOINTS: Array<[string, string, boolean]> = [
  ['POST', '/v1/enroll', false],
  ['POST', '/v1/verify', false],
  ['POST', '/v1/log/batch', false],
  ['POST', '/v1/admin/enrollment-codes', true],
  ['PUT', '/v1/admin/agents/agent:x', true],
  ['POST', '/v1/admin/kill', true],
  ['DELETE', '/v1/admin/kill', true],
  ['PUT', '/v1/admin/policy', true],
];

let v: TestVerifier;
beforeAll(async () => {
  v = await startVerifier('sqlite');
});
afterAll(() => v.close());

const contentType = fc.constantFrom('application/json', 'application/jose', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/json; charset=latin1', '');
const body = fc.oneof(
  fc.json(),
  fc.string(),
  fc.jsonValue().map((j) => JSON.stringify({ token: j, request: FORUM_REQUEST })),
  fc.record({ token: fc.string(), request: fc.record({ method: fc.string(), url: fc.string(), contentType: fc.option(fc.string()), body: fc.option(fc.string()) }) }).map((o) => JSON.stringify(o)),
  fc.record({ code: fc.string(), publicKeyJwk: fc.dictionary(fc.string(), fc.jsonValue()), label: fc.string() }).map((o) => JSON.stringify(o)),
  fc.record({ scope: fc.string(), target: fc.string() }).map((o) => JSON.stringify(o)),
);

async function expectRefusalShape(status: number, payload: string): Promise<void> {
  expect(status).toBeLessThan(500);
  if (status >= 400) expect(ErrorBody.safeParse(JSON.parse(payload)).success, payload).toBe(true);
}

describe('bad input', () => {
  it.each(ENDPOINTS)('%s %s: random bodies and content types never give a 5xx', async (method, url, admin) => {
    await fc.assert(
      fc.asyncProperty(body, contentType, async (payload, type) => {
        const res = await v.app.inject({
          method: method as 'POST',
          url,
          headers: { ...(type ? { 'content-type': type } : {}), ...(admin ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {}) },
          payload,
        });
        await expectRefusalShape(res.statusCode, res.body);
      }),
      { numRuns: RUNS },
    );
  });

  it('random paths, methods and query strings get a JSON answer, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), fc.webPath(), fc.webQueryParameters(), async (method, path, query) => {
        const res = await v.app.inject({ method: method as 'GET', url: `${path || '/'}?${query}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        if (res.statusCode >= 400) await expectRefusalShape(res.statusCode, res.body);
        else expect(res.statusCode).toBeLessThan(400);
      }),
      { numRuns: RUNS },
    );
  });

  it('the verifier still answers after all of it', async () => {
    expect((await v.app.inject({ method: 'GET', url: '/v1/status' })).statusCode).toBe(200);
  });
});
