// Admin routes, status, JWKS, metrics and unknown routes, on SQLite and PostgreSQL.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEs256Jwks, verifyReceipt } from '@/lib/protocol';
import { REDACTED_HEADERS } from '../../../server/app';
import { DATABASES, FORUM_REQUEST, PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

describe.each(DATABASES)('admin and public routes (%s)', (kind) => {
  let v: TestVerifier;
  beforeAll(async () => {
    v = await startVerifier(kind);
  });
  afterAll(() => v.close());

  const adminRoutes: Array<[string, string, unknown?]> = [
    ['POST', '/v1/admin/enrollment-codes', { userId: 'alice' }],
    ['PUT', '/v1/admin/agents/agent:x', { owner: 'alice', scopes: [], sites: [] }],
    ['POST', '/v1/admin/agents/agent:x/keys'],
    ['DELETE', '/v1/admin/agents/agent:x/keys/agk_x'],
    ['POST', '/v1/admin/kill', { scope: 'global' }],
    ['DELETE', '/v1/admin/kill', { scope: 'global' }],
    ['POST', '/v1/admin/devices/abc/revoke'],
    ['GET', '/v1/admin/events?trace=0af7651916cd43dd8448eb211c80319c'],
    ['GET', '/v1/admin/policy'],
    ['PUT', '/v1/admin/policy', { text: 'permit(principal, action, resource);' }],
    ['POST', '/v1/admin/receipt-keys/rotate'],
    ['GET', '/metrics'],
  ];

  it.each(adminRoutes)('%s %s without or with a wrong admin token → 401 unauthorized', async (method, url, payload) => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: 'Basic abc' }]) {
      const res = await v.app.inject({ method: method as 'GET', url, headers, ...(payload ? { payload: payload as object } : {}) });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String), traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    }
  });

  it('PUT /v1/admin/agents registers and updates an agent; a bad body → 400 naming the field', async () => {
    const ok = await v.admin('PUT', '/v1/admin/agents/agent:forum-helper', { owner: 'alice', scopes: ['forum.post'], sites: ['http://127.0.0.1:8080'] });
    expect(ok.json()).toEqual({ id: 'agent:forum-helper', owner: 'alice', scopes: ['forum.post'], sites: ['http://127.0.0.1:8080'] });
    const again = await v.admin('PUT', '/v1/admin/agents/agent:forum-helper', { owner: 'bob', scopes: [], sites: [] });
    expect(again.json()).toMatchObject({ owner: 'bob' });
    const bad = await v.admin('PUT', '/v1/admin/agents/agent:x', { owner: 'alice', scopes: 'forum.post', sites: [] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'payload_invalid', message: expect.stringContaining('scopes') } });
  });

  it('a kill with a bad scope or a site that is not an origin → 400 payload_invalid', async () => {
    expect((await v.admin('POST', '/v1/admin/kill', { scope: 'planet' })).json()).toMatchObject({ error: { code: 'payload_invalid' } });
    expect((await v.admin('POST', '/v1/admin/kill', { scope: 'site', target: 'not a url' })).json()).toMatchObject({ error: { code: 'payload_invalid' } });
    expect((await v.admin('POST', '/v1/admin/kill', { scope: 'agent' })).statusCode).toBe(400);
  });

  it('GET /v1/admin/events needs a W3C trace id', async () => {
    expect((await v.admin('GET', '/v1/admin/events?trace=x')).json()).toMatchObject({ error: { code: 'payload_invalid' } });
  });

  it('the policy can be read and replaced; its version goes into status; an invalid policy → 400 and the old one stays', async () => {
    const before = (await v.admin('GET', '/v1/admin/policy')).json() as { version: string; text: string };
    expect(before.text).toContain('forbid');
    const bad = await v.admin('PUT', '/v1/admin/policy', { text: 'permit(principal, action' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'payload_invalid', message: expect.stringContaining('policy') } });
    expect(((await v.app.inject({ method: 'GET', url: '/v1/status' })).json() as { policyVersion: string }).policyVersion).toBe(before.version);
    const replaced = await v.admin('PUT', '/v1/admin/policy', { text: `${before.text}\n// reviewed\n` });
    const after = replaced.json() as { version: string };
    expect(after.version).not.toBe(before.version);
    expect(((await v.app.inject({ method: 'GET', url: '/v1/status' })).json() as { policyVersion: string }).policyVersion).toBe(after.version);
    await v.restart();
    expect(((await v.app.inject({ method: 'GET', url: '/v1/status' })).json() as { policyVersion: string }).policyVersion).toBe(after.version);
  });

  it('GET /v1/status reports no kill switch, the policy version and the time', async () => {
    const res = await v.app.inject({ method: 'GET', url: '/v1/status' });
    expect(res.json()).toEqual({ killSwitch: { engaged: false, entries: [] }, policyVersion: expect.stringMatching(/^sha256:[0-9a-f]{16}$/), time: v.clock.now });
  });

  it('rotating the receipt key keeps the old key in the JWKS, so older receipts still verify', async () => {
    const alice = await v.enroll('alice');
    await v.registerAgent('agent:forum-helper', 'alice');
    const { token } = await v.mint(alice);
    const { receipt } = (await v.verify({ token, request: FORUM_REQUEST })).json() as { receipt: string };
    const rotated = (await v.admin('POST', '/v1/admin/receipt-keys/rotate')).json() as { kid: string };
    const jwks = (await v.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: Array<{ kid: string }> };
    expect(jwks.keys[0]!.kid).toBe(rotated.kid);
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2);
    const keys = await importEs256Jwks(jwks);
    await expect(verifyReceipt(receipt, { lookupKey: (k) => keys.get(k), issuer: PUBLIC_URL })).resolves.toBeDefined();
    const next = await v.mint(alice);
    const fresh = (await v.verify({ token: next.token, request: FORUM_REQUEST })).json() as { receipt: string };
    const { header } = await verifyReceipt(fresh.receipt, { lookupKey: (k) => keys.get(k), issuer: PUBLIC_URL });
    expect(header.kid).toBe(rotated.kid);
  });

  it('GET /metrics (admin) exposes decisions by code, the verify latency histogram and events ingested', async () => {
    const res = await v.admin('GET', '/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('countersign_decisions_total{code="allow"}');
    expect(res.body).toContain('countersign_verify_duration_seconds_bucket');
    expect(res.body).toContain('countersign_log_events_ingested_total');
  });

  it.each([
    ['GET', '/nope'],
    ['POST', '/v1/verifyx'],
    ['DELETE', '/v1/status'],
  ])('%s %s → a JSON 404 not_found', async (method, url) => {
    const res = await v.app.inject({ method: method as 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String), traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
  });
});

describe('logging', () => {
  it('never writes a token, a request body or the admin token to the log', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const v = await startVerifier('sqlite', { logger: { level: 'trace', redact: REDACTED_HEADERS, stream } as never });
    try {
      const alice = await v.enroll('alice');
      await v.registerAgent('agent:forum-helper', 'alice');
      const { token } = await v.mint(alice);
      await v.verify({ token, request: FORUM_REQUEST });
      await v.verify({ token, request: FORUM_REQUEST });
      await v.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'countersign-approval': token }, payload: { token: token.slice(0, -3), request: FORUM_REQUEST, scope: 'forum.post' } });
      const log = lines.join('\n');
      expect(lines.length).toBeGreaterThan(5);
      for (const secret of [token.split('.')[1]!, token.split('.')[2]!, 'Try revoking the group grant', 'test-admin-token-0123456789']) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await v.close();
    }
  });
});
