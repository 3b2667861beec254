// Fuzzing every admin endpoint of the verifier (and /metrics) through app.inject, FUZZ_RUNS cases each
// (100,000 under `npm run test:faults`), with and without the admin bearer token and with near misses of
// it: no 5xx, every refusal in DESIGN.md's error shape, and no request without the exact token obeyed.
// The list (ADMIN_ENDPOINTS) is held to the verifier's routes by fuzz-endpoints.test.ts.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ENDPOINTS, FUZZ_ADMIN_TOKEN, FUZZ_AGENT, FUZZ_RUNS, bodyArb, fuzzEndpoint, mutateString, pathArb, startFuzzWorld } from '../helpers/fuzz';
import type { EndpointSpec, FuzzWorld } from '../helpers/fuzz';

let w: FuzzWorld;
beforeAll(async () => {
  w = await startFuzzWorld();
}, 60_000);
afterAll(() => w.close());

const onlyWithTheToken: EndpointSpec['unauthorizedIf2xx'] = ({ auth }) => auth !== 'right';

function specs(): EndpointSpec[] {
  const t = w.templates;
  const param = (prefix: string, valid: string, suffix = '') =>
    fc.oneof({ weight: 3, arbitrary: fc.constant(valid) }, { weight: 2, arbitrary: mutateString(valid) }, { weight: 1, arbitrary: fc.webSegment() }, { weight: 1, arbitrary: fc.string({ maxLength: 300 }) })
      .map((p) => `${prefix}${encodeURIComponent(p)}${suffix}`)
      .chain((p) => pathArb(p));
  const kill = fc.constantFrom(...t.kill).chain((k) => bodyArb(k, 'application/json'));
  const segment = (valid: string) =>
    fc.oneof({ weight: 3, arbitrary: fc.constant(valid) }, { weight: 2, arbitrary: mutateString(valid) }, { weight: 1, arbitrary: fc.webSegment() }, { weight: 1, arbitrary: fc.string({ maxLength: 300 }) }).map(encodeURIComponent);
  // The live key's id (revoking it again is idempotent), the revoked one's, and edits of both.
  const keyPath = fc
    .tuple(segment(FUZZ_AGENT), fc.constantFrom(w.agentKey.keyId, w.revokedAgentKey.keyId).chain(segment))
    .chain(([agent, key]) => pathArb(`/v1/admin/agents/${agent}/keys/${key}`));
  return [
    { name: 'POST /v1/admin/enrollment-codes', method: 'POST', path: pathArb('/v1/admin/enrollment-codes'), admin: true, body: bodyArb(t.enrollmentCode, 'application/json'), unauthorizedIf2xx: onlyWithTheToken },
    { name: 'PUT /v1/admin/agents/{agentId}', method: 'PUT', path: param('/v1/admin/agents/', FUZZ_AGENT), admin: true, body: bodyArb(t.agent, 'application/json'), unauthorizedIf2xx: onlyWithTheToken },
    { name: 'POST /v1/admin/agents/{agentId}/keys', method: 'POST', path: param('/v1/admin/agents/', FUZZ_AGENT, '/keys'), admin: true, body: null, unauthorizedIf2xx: onlyWithTheToken },
    { name: 'DELETE /v1/admin/agents/{agentId}/keys/{keyId}', method: 'DELETE', path: keyPath, admin: true, body: null, unauthorizedIf2xx: onlyWithTheToken },
    { name: 'POST /v1/admin/kill', method: 'POST', path: pathArb('/v1/admin/kill'), admin: true, body: kill, unauthorizedIf2xx: onlyWithTheToken },
    { name: 'DELETE /v1/admin/kill', method: 'DELETE', path: pathArb('/v1/admin/kill'), admin: true, body: kill, unauthorizedIf2xx: onlyWithTheToken },
    { name: 'POST /v1/admin/devices/{kid}/revoke', method: 'POST', path: param('/v1/admin/devices/', w.kid, '/revoke'), admin: true, body: null, unauthorizedIf2xx: onlyWithTheToken },
    { name: 'GET /v1/admin/devices', method: 'GET', path: param('/v1/admin/devices?user=', 'alice'), admin: true, body: null, unauthorizedIf2xx: onlyWithTheToken },
    { name: 'GET /v1/admin/events', method: 'GET', path: param('/v1/admin/events?trace=', w.traceId), admin: true, body: null, unauthorizedIf2xx: onlyWithTheToken },
    { name: 'GET /v1/admin/policy', method: 'GET', path: pathArb('/v1/admin/policy'), admin: true, body: null, unauthorizedIf2xx: onlyWithTheToken },
    { name: 'PUT /v1/admin/policy', method: 'PUT', path: pathArb('/v1/admin/policy'), admin: true, body: bodyArb(t.policy, 'application/json'), unauthorizedIf2xx: onlyWithTheToken },
    { name: 'GET /v1/admin/extension-policy', method: 'GET', path: pathArb('/v1/admin/extension-policy'), admin: true, body: null, unauthorizedIf2xx: onlyWithTheToken },
    { name: 'PUT /v1/admin/extension-policy', method: 'PUT', path: pathArb('/v1/admin/extension-policy'), admin: true, body: bodyArb(t.extensionPolicy, 'application/json'), unauthorizedIf2xx: onlyWithTheToken },
    { name: 'POST /v1/admin/receipt-keys/rotate', method: 'POST', path: pathArb('/v1/admin/receipt-keys/rotate'), admin: true, body: null, unauthorizedIf2xx: onlyWithTheToken },
    { name: 'POST /v1/admin/policy-bots/{name}/rotate', method: 'POST', path: param('/v1/admin/policy-bots/', 'small-replies', '/rotate'), admin: true, body: null, unauthorizedIf2xx: onlyWithTheToken },
    { name: 'GET /metrics', method: 'GET', path: pathArb('/metrics'), admin: true, body: null, unauthorizedIf2xx: onlyWithTheToken },
  ];
}

describe('fuzzing the admin endpoints', () => {
  it('has a case for each admin endpoint', () => {
    expect(specs().map((s) => s.name).sort()).toEqual([...ADMIN_ENDPOINTS].sort());
  });

  it.each(ADMIN_ENDPOINTS)(`%s: ${FUZZ_RUNS} requests with and without the admin token, no 5xx, nothing obeyed without the token`, async (name) => {
    const spec = specs().find((s) => s.name === name)!;
    // The admin token, and the agent keys (a 201 of POST …/keys carries a new one: only ever to the token's holder).
    const outcome = await fuzzEndpoint(w.app, spec, [FUZZ_ADMIN_TOKEN, w.agentKey.key, w.revokedAgentKey.key]);
    expect(outcome.sent).toBe(FUZZ_RUNS);
    expect(outcome.unauthorized).toBe(0);
    console.log(`${name}: ${outcome.sent} sent, statuses ${JSON.stringify(Object.fromEntries(outcome.statuses))}`);
  });

  it('the verifier still answers after all of it, and the revoked agent key stays revoked', async () => {
    expect((await w.app.inject({ method: 'GET', url: '/v1/status' })).statusCode).toBe(200);
    expect((await w.app.inject({ method: 'GET', url: '/v1/agents/me', headers: { authorization: `Bearer ${w.revokedAgentKey.key}` } })).statusCode).toBe(401);
  });
});
