// The registry reads of a verify are never served stale: a revocation, a kill or a changed agent
// registration made through another verifier instance on the same database counts from the very
// next verify on this one, even right after this one verified (and memoised) the same key, agent
// and policy question. Node only (tests).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../server/app';
import { openDatabase } from '../../../server/db/connect';
import type { DatabaseHandle } from '../../../server/db/connect';
import { ADMIN_TOKEN, DATABASES, FORUM_REQUEST, PUBLIC_URL, sameStorage, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';

describe.each(DATABASES)('verify reads across two verifier instances (%s)', (kind) => {
  let v: TestVerifier;
  let other: { app: FastifyInstance; database: DatabaseHandle };
  let alice: Device;

  beforeAll(async () => {
    v = await startVerifier(kind);
    const database = await openDatabase(sameStorage(v.database));
    other = { database, app: await buildApp({ database, adminToken: ADMIN_TOKEN, publicUrl: PUBLIC_URL, now: () => v.clock.now }) };
    alice = await v.enroll('alice');
    await v.registerAgent('agent:forum-helper', 'alice');
  });
  afterAll(async () => {
    await other.app.close();
    await other.database.close();
    await v.close();
  });

  const adminOnOther = (method: 'POST' | 'PUT' | 'DELETE', url: string, payload: object) =>
    other.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload });
  async function code(token: string): Promise<string> {
    const res = await v.verify({ token, request: FORUM_REQUEST });
    return res.statusCode === 200 ? 'allowed' : (res.json() as { error: { code: string } }).error.code;
  }

  it('A-09: a key revoked through the other instance is refused here from the next verify', async () => {
    const bob = await v.enroll('bob');
    await v.registerAgent('agent:bob-helper', 'bob');
    expect(await code((await v.mint(bob, { agent: 'agent:bob-helper' })).token)).toBe('allowed');
    expect((await adminOnOther('POST', `/v1/admin/devices/${bob.kid}/revoke`, {})).statusCode).toBe(200);
    expect(await code((await v.mint(bob, { agent: 'agent:bob-helper' })).token)).toBe('key_revoked');
  });

  it('a kill engaged through the other instance stops the next verify here', async () => {
    expect(await code((await v.mint(alice)).token)).toBe('allowed');
    expect((await adminOnOther('POST', '/v1/admin/kill', { scope: 'agent', target: 'agent:forum-helper' })).statusCode).toBe(200);
    expect(await code((await v.mint(alice)).token)).toBe('kill_switch_engaged');
    expect((await adminOnOther('DELETE', '/v1/admin/kill', { scope: 'agent', target: 'agent:forum-helper' })).statusCode).toBe(200);
    v.clock.now += 1000; // a token issued after the kill was lifted
    expect(await code((await v.mint(alice)).token)).toBe('allowed');
  });

  it('an agent handed to another owner through the other instance: the same question is decided afresh here', async () => {
    expect(await code((await v.mint(alice)).token)).toBe('allowed');
    expect((await adminOnOther('PUT', '/v1/admin/agents/agent:forum-helper', { owner: 'carol', scopes: ['forum.post'], sites: ['http://127.0.0.1:8080'] })).statusCode).toBe(200);
    expect(await code((await v.mint(alice)).token)).toBe('approver_not_authorized');
  });
});
