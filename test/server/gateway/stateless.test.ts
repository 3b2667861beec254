// Several gateway instances behind a real load balancer (HAProxy, round-robin), one verifier: the
// instances share nothing but the verifier, so a token consumed through one is replayed through any
// other, and an agent key revoked once stops on all of them. Node only (tests; needs haproxy).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAuthProxy } from '../../helpers/auth-proxy';
import type { AuthProxy } from '../../helpers/auth-proxy';
import { FORM, send, startGatewayWorld } from '../../helpers/gateway';
import type { GatewayWorld } from '../../helpers/gateway';

const RIGHTS = '/index.php?title=Special:UserRights&user=Bob';
const BODY = 'user=Bob&wpGroup-sysop=1&saveusergroups=Save';

let w: GatewayWorld;
let second: Awaited<ReturnType<GatewayWorld['another']>>;
let proxy: AuthProxy;
const served = [0, 0];

beforeAll(async () => {
  w = await startGatewayWorld();
  second = await w.another();
  w.gateway.server.on('request', () => served[0]!++);
  second.app.server.on('request', () => served[1]!++);
  proxy = await startAuthProxy([`http://127.0.0.1:${w.port}`, `http://127.0.0.1:${second.port}`], ['alice']);
}, 30_000);
afterAll(async () => {
  await proxy?.stop();
  await w?.close();
});

/** Through the balancer, which passes the public Host through as a company's would. */
const balancerPort = () => Number(new URL(proxy.urlFor('alice')).port);

async function post(token: string): Promise<{ status: number; code?: string }> {
  const answer = await send(balancerPort(), 'POST', RIGHTS, { body: BODY, contentType: FORM, headers: [`Countersign-Approval: ${token}`] });
  return { status: answer.status, ...(answer.code ? { code: answer.code } : {}) };
}

it('a token consumed through one instance is replayed through the other, whichever serves each request', async () => {
  for (let i = 0; i < 6; i++) {
    const token = await w.approve({ url: RIGHTS, body: BODY }, { agent: 'user:alice', scope: 'wiki.rights' });
    expect(await post(token)).toEqual({ status: 200 });
    expect(await post(token)).toEqual({ status: 409, code: 'replayed' });
  }
  expect(w.upstream.seen).toHaveLength(6);
  // Round-robin: both instances took their share.
  expect(served[0]).toBeGreaterThan(0);
  expect(served[1]).toBeGreaterThan(0);
});

it('an agent key revoked once is refused by every instance', async () => {
  const { key, keyId } = await w.agentKey();
  await w.v.admin('DELETE', `/v1/admin/agents/wiki-helper/keys/${keyId}`);
  for (let i = 0; i < 4; i++) {
    const answer = await send(balancerPort(), 'GET', '/index.php', { headers: [`X-Countersign-Agent-Key: ${key}`] });
    expect(answer.code).toBe('unauthorized');
  }
});
