// Agent keys over HTTP: `POST /v1/admin/agents/:agentId/keys` and `DELETE …/keys/:keyId` (admin), and
// `GET /v1/agents/me` (the agent's bearer key), which the gateway asks to learn whose key it was given.
// The key appears in the creating answer only: never in a log line, never in an error. SQLite and
// PostgreSQL. Node only (tests).
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentIdentity, AgentKeyCreated } from '../../../lib/protocol/api';
import { REDACTED_HEADERS } from '../../../server/app';
import { ADMIN_TOKEN, DATABASES, startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

describe.each(DATABASES)('agent key routes (%s)', (kind) => {
  let v: TestVerifier;
  beforeAll(async () => {
    v = await startVerifier(kind);
    await v.registerAgent('agent:forum-helper', 'alice');
  });
  afterAll(() => v.close());

  const createKey = (agentId: string) => v.admin('POST', `/v1/admin/agents/${encodeURIComponent(agentId)}/keys`);
  const me = (authorization?: string) => v.app.inject({ method: 'GET', url: '/v1/agents/me', headers: authorization === undefined ? {} : { authorization } });

  it('POST …/keys → 201 {keyId, key}, not cacheable; GET /v1/agents/me with that key → 200 {agentId, keyId}', async () => {
    const created = await createKey('agent:forum-helper');
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { keyId, key } = AgentKeyCreated.parse(created.json());
    expect(Object.keys(created.json() as object).sort()).toEqual(['key', 'keyId']);
    const res = await me(`Bearer ${key}`);
    expect(res.statusCode).toBe(200);
    expect(AgentIdentity.parse(res.json())).toEqual({ agentId: 'agent:forum-helper', keyId });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('a key for an agent that is not registered → 404 not_found', async () => {
    const res = await createKey('agent:unregistered');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String), traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
  });

  it('DELETE …/keys/:keyId revokes (200 {ok: true}, again 200); the key is then 401 on /v1/agents/me; an unknown key id → 404', async () => {
    const { keyId, key } = (await createKey('agent:forum-helper')).json() as { keyId: string; key: string };
    const revoked = await v.admin('DELETE', `/v1/admin/agents/agent:forum-helper/keys/${keyId}`);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toEqual({ ok: true });
    expect((await v.admin('DELETE', `/v1/admin/agents/agent:forum-helper/keys/${keyId}`)).statusCode).toBe(200);
    const res = await me(`Bearer ${key}`);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('unauthorized');
    expect((await v.admin('DELETE', '/v1/admin/agents/agent:forum-helper/keys/agk_nope')).json().error.code).toBe('not_found');
    expect((await v.admin('DELETE', `/v1/admin/agents/agent:other/keys/${keyId}`)).statusCode).toBe(404);
  });

  it('rotation: a new key works beside the old one until the old one is revoked', async () => {
    const old = (await createKey('agent:forum-helper')).json() as { keyId: string; key: string };
    const next = (await createKey('agent:forum-helper')).json() as { keyId: string; key: string };
    expect((await me(`Bearer ${old.key}`)).json()).toEqual({ agentId: 'agent:forum-helper', keyId: old.keyId });
    expect((await me(`Bearer ${next.key}`)).json()).toEqual({ agentId: 'agent:forum-helper', keyId: next.keyId });
    await v.admin('DELETE', `/v1/admin/agents/agent:forum-helper/keys/${old.keyId}`);
    expect((await me(`Bearer ${old.key}`)).statusCode).toBe(401);
    expect((await me(`Bearer ${next.key}`)).statusCode).toBe(200);
  });

  it.each([
    ['POST', '/v1/admin/agents/agent:forum-helper/keys'],
    ['DELETE', '/v1/admin/agents/agent:forum-helper/keys/agk_x'],
  ])('%s %s without the admin token, or with an agent key instead → 401 unauthorized', async (method, url) => {
    const { key } = (await createKey('agent:forum-helper')).json() as { key: string };
    for (const headers of [{}, { authorization: `Bearer ${key}` }]) {
      const res = await v.app.inject({ method: method as 'POST', url, headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });

  it('GET /v1/agents/me refuses the admin token, no header and a malformed key with 401 in DESIGN.md\'s error shape', async () => {
    for (const authorization of [undefined, `Bearer ${ADMIN_TOKEN}`, 'Bearer csa_short']) {
      const res = await me(authorization);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String), traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
      expect(res.body).not.toContain(ADMIN_TOKEN);
    }
  });
});

describe('agent keys and logging', () => {
  it('never writes an agent key to the log: not on creation, use, revocation or refusal', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const v = await startVerifier('sqlite', { logger: { level: 'trace', redact: REDACTED_HEADERS, stream } as never });
    try {
      await v.registerAgent('agent:forum-helper', 'alice');
      const { key, keyId } = (await v.admin('POST', '/v1/admin/agents/agent:forum-helper/keys')).json() as { key: string; keyId: string };
      await v.app.inject({ method: 'GET', url: '/v1/agents/me', headers: { authorization: `Bearer ${key}` } });
      await v.admin('DELETE', `/v1/admin/agents/agent:forum-helper/keys/${keyId}`);
      await v.app.inject({ method: 'GET', url: '/v1/agents/me', headers: { authorization: `Bearer ${key}` } });
      // A key sent somewhere it does not belong, and a near miss: still never logged.
      await v.app.inject({ method: 'GET', url: '/v1/agents/me', headers: { authorization: `Bearer ${key}x` } });
      await v.app.inject({ method: 'POST', url: '/v1/admin/agents/agent:forum-helper/keys', headers: { authorization: `Bearer ${key}` } });
      expect(lines.length).toBeGreaterThan(5);
      expect(lines.join('\n')).not.toContain(key.slice(4));
    } finally {
      await v.close();
    }
  });
});
