// Fuzzing every public verifier endpoint of DESIGN.md's API through app.inject, FUZZ_RUNS cases each
// (100,000 under `npm run test:faults`): bodies of the wrong content type, arbitrary JSON, near-valid
// mutations of valid bodies, huge and deep inputs, weird headers and paths; on the device-authenticated
// routes device proofs (spent, edited, for another method or time, or fresh for exactly the request),
// on `GET /v1/agents/me` agent keys (revoked, near misses, the live one). No answer is a 5xx, every
// refusal is DESIGN.md's error shape with a known code, and no consumed or tampered token, spent
// enrollment code, unsigned log batch, spent or foreign device proof or wrong agent key is ever
// accepted. Admin endpoints: fuzz-admin-endpoints.test.ts; this file also holds both lists to the
// routes the verifier registers.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ENDPOINTS, FUZZ_ADMIN_TOKEN, FUZZ_RUNS, PUBLIC_ENDPOINTS, agentAuthArb, bodyArb, deviceAuthArb, fuzzEndpoint, mutateString, pathArb, registeredRoutes, startFuzzWorld } from '../helpers/fuzz';
import type { BodyCase, EndpointSpec, FuzzWorld } from '../helpers/fuzz';

let w: FuzzWorld;
beforeAll(async () => {
  w = await startFuzzWorld();
}, 60_000);
afterAll(() => w.close());

/** The log batch as the route would read it: the text, or a JSON string's value. */
function batchText(body: BodyCase | null): string | undefined {
  const p = body?.payload;
  if (typeof p !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(p);
    return typeof v === 'string' ? v : p;
  } catch {
    return p;
  }
}

function specs(): EndpointSpec[] {
  const t = w.templates;
  // A verify body whose token is a consumed one, edited: the attack most likely to slip through.
  const tamperedToken = fc.tuple(fc.constantFrom(...w.consumedTokens), fc.nat()).chain(([token]) => fc.oneof(fc.constant(token), mutateString(token)));
  const verifyBody = fc.oneof(
    { weight: 3, arbitrary: bodyArb(t.verify, 'application/json') },
    { weight: 2, arbitrary: tamperedToken.map((token): BodyCase => ({ payload: JSON.stringify({ ...t.verify, token }), contentType: 'application/json' })) },
  );
  return [
    { name: 'POST /v1/enroll', method: 'POST', path: pathArb('/v1/enroll'), admin: false, body: bodyArb(t.enroll, 'application/json'), unauthorizedIf2xx: () => true },
    { name: 'POST /v1/verify', method: 'POST', path: pathArb('/v1/verify'), admin: false, body: verifyBody, unauthorizedIf2xx: () => true },
    {
      name: 'POST /v1/log/batch', method: 'POST', path: pathArb('/v1/log/batch'), admin: false, body: bodyArb(t.logBatch, 'application/jose'),
      // Re-sending an acknowledged batch is acknowledged again (L-02); anything else signed by no one must not be.
      unauthorizedIf2xx: ({ body }) => !w.acceptedBatches.has(batchText(body) ?? ''),
    },
    { name: 'GET /v1/status', method: 'GET', path: pathArb('/v1/status'), admin: false, body: null, unauthorizedIf2xx: () => false },
    { name: 'GET /.well-known/jwks.json', method: 'GET', path: pathArb('/.well-known/jwks.json'), admin: false, body: null, unauthorizedIf2xx: () => false },
    { name: 'GET /', method: 'GET', path: pathArb('/'), admin: false, body: null, unauthorizedIf2xx: () => false },
    {
      name: 'GET /v1/extension-policy', method: 'GET', path: pathArb('/v1/extension-policy'), admin: false, auth: deviceAuthArb(w, w.spentProofs.extensionPolicy, w.spentProofs.receiptLookup), body: null,
      unauthorizedIf2xx: onlyTheRightCredential,
    },
    {
      name: 'POST /v1/receipts/lookup', method: 'POST', path: pathArb('/v1/receipts/lookup'), admin: false, auth: deviceAuthArb(w, w.spentProofs.receiptLookup, w.spentProofs.extensionPolicy),
      body: bodyArb(t.receiptLookup, 'application/json'), unauthorizedIf2xx: onlyTheRightCredential,
    },
    { name: 'GET /v1/agents/me', method: 'GET', path: pathArb('/v1/agents/me'), admin: false, auth: agentAuthArb(w), body: null, unauthorizedIf2xx: onlyTheRightCredential },
    {
      name: 'POST /v1/proposals', method: 'POST', path: pathArb('/v1/proposals'), admin: false, auth: agentAuthArb(w),
      body: bodyArb(t.proposal, 'application/json'), unauthorizedIf2xx: onlyTheRightCredential,
    },
    {
      name: 'GET /v1/proposals/{id}', method: 'GET', path: fc.oneof(pathArb(`/v1/proposals/${w.proposalId}`), pathArb(`/v1/proposals/${w.proposalId}?wait=0`), pathArb('/v1/proposals/prp_AAAAAAAAAAAAAAAAAAAAAA')),
      admin: false, auth: agentAuthArb(w), body: null, unauthorizedIf2xx: onlyTheRightCredential,
    },
    {
      name: 'GET /v1/proposals', method: 'GET', path: pathArb('/v1/proposals?state=pending'), admin: false, auth: deviceAuthArb(w, w.spentProofs.proposals, w.spentProofs.decision), body: null,
      unauthorizedIf2xx: onlyTheRightCredential,
    },
    {
      name: 'POST /v1/proposals/{id}/decision', method: 'POST', path: pathArb(`/v1/proposals/${w.proposalId}/decision`), admin: false, auth: deviceAuthArb(w, w.spentProofs.decision, w.spentProofs.proposals),
      body: fc.oneof(bodyArb(t.decision, 'application/json'), bodyArb({ reject: { reason: 'not now' } }, 'application/json')),
      // Only alice's own fresh proof may decide (she is its approver); no approve body here carries a valid token.
      unauthorizedIf2xx: ({ auth, body }) => auth !== 'right' || /"approve"/.test(String(body?.payload ?? '')),
    },
    {
      name: 'POST /v1/proposals/held', method: 'POST', path: pathArb('/v1/proposals/held'), admin: false, auth: deviceAuthArb(w, w.spentProofs.proposals, w.spentProofs.decision),
      body: bodyArb(t.heldPublication, 'application/json'),
      // The template's token is spent and approves another request: no publication may come of it.
      unauthorizedIf2xx: () => true,
    },
    {
      name: 'POST /v1/approval-plan', method: 'POST', path: pathArb('/v1/approval-plan'), admin: false, auth: deviceAuthArb(w, w.spentProofs.proposals, w.spentProofs.decision),
      body: bodyArb(t.approvalPlan, 'application/json'), unauthorizedIf2xx: onlyTheRightCredential,
    },
    {
      name: 'GET /v1/policy-bot/approvals', method: 'GET', path: pathArb('/v1/policy-bot/approvals'), admin: false, auth: deviceAuthArb(w, w.spentProofs.proposals, w.spentProofs.decision), body: null,
      unauthorizedIf2xx: onlyTheRightCredential,
    },
    { name: 'GET /v1/policy-bot/keys', method: 'GET', path: pathArb('/v1/policy-bot/keys'), admin: false, body: null, unauthorizedIf2xx: () => false },
  ];
}

/** A 2xx only for the live agent key, or a fresh device proof minted for exactly that request. */
const onlyTheRightCredential: EndpointSpec['unauthorizedIf2xx'] = ({ auth }) => auth !== 'right';

describe('fuzzing the public endpoints', () => {
  it('fuzzes every route the verifier registers: the public ones here, the admin ones in fuzz-admin-endpoints.test.ts', () => {
    expect(specs().map((s) => s.name).sort()).toEqual([...PUBLIC_ENDPOINTS].sort());
    expect(registeredRoutes(w.app).sort()).toEqual([...PUBLIC_ENDPOINTS, ...ADMIN_ENDPOINTS].sort());
  });

  it.each(PUBLIC_ENDPOINTS)(`%s: ${FUZZ_RUNS} hostile requests, no 5xx, every refusal in DESIGN.md's shape, nothing let through`, async (name) => {
    const spec = specs().find((s) => s.name === name)!;
    const secrets = [
      ...w.consumedTokens.map((x) => x.split('.')[2]!), ...w.consumedTokens.map((x) => x.split('.')[1]!),
      w.agentKey.key, w.revokedAgentKey.key, FUZZ_ADMIN_TOKEN, ...[...w.spentProofs.receiptLookup, ...w.spentProofs.extensionPolicy, ...w.spentProofs.proposals, ...w.spentProofs.decision].map((p) => p.split('.')[2]!),
    ];
    const outcome = await fuzzEndpoint(w.app, spec, secrets);
    expect(outcome.sent).toBe(FUZZ_RUNS);
    expect(outcome.unauthorized).toBe(0);
    console.log(`${name}: ${outcome.sent} sent, statuses ${JSON.stringify(Object.fromEntries(outcome.statuses))}`);
  });

  it(`unknown routes: ${FUZZ_RUNS} random methods, paths and queries get a JSON answer, never a 5xx`, async () => {
    const spec: EndpointSpec = {
      name: 'unknown routes', method: 'GET', path: fc.tuple(fc.webPath(), fc.webQueryParameters()).map(([p, q]) => `${p || '/'}?${q}`),
      admin: true, body: null, unauthorizedIf2xx: () => false,
    };
    for (const method of ['GET', 'POST', 'PUT', 'DELETE'] as const) {
      const outcome = await fuzzEndpoint(w.app, { ...spec, method, name: `${method} unknown routes` }, [], Math.ceil(FUZZ_RUNS / 4));
      expect(outcome.sent).toBe(Math.ceil(FUZZ_RUNS / 4));
    }
  });

  it('the verifier still answers after all of it; consumed tokens and spent proofs are still refused as replayed, the revoked key as unauthorized', async () => {
    expect((await w.app.inject({ method: 'GET', url: '/v1/status' })).statusCode).toBe(200);
    for (const token of w.consumedTokens) {
      const res = await w.app.inject({ method: 'POST', url: '/v1/verify', payload: { token, request: w.templates.verify.request, scope: w.templates.verify.scope } });
      expect(res.json()).toMatchObject({ error: { code: 'replayed' } });
    }
    for (const authorization of w.spentProofs.receiptLookup) {
      const res = await w.app.inject({ method: 'POST', url: '/v1/receipts/lookup', headers: { authorization }, payload: w.templates.receiptLookup });
      expect(res.json()).toMatchObject({ error: { code: 'replayed' } });
    }
    expect((await w.app.inject({ method: 'GET', url: '/v1/agents/me', headers: { authorization: `Bearer ${w.revokedAgentKey.key}` } })).json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect((await w.app.inject({ method: 'GET', url: '/v1/agents/me', headers: { authorization: `Bearer ${w.agentKey.key}` } })).json()).toEqual({ agentId: 'agent:forum-helper', keyId: w.agentKey.keyId });
  });
});
