// Agent proposals across verifier replicas sharing one PostgreSQL (DESIGN.md: several verifier
// replicas behind a load balancer): an agent waiting on one replica learns of a decision taken on
// another; decisions racing on two replicas still have one winner; limits count every replica's
// proposals. Node only (tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ProposalCreated, ProposalStatus, mintDeviceProof } from '../../../lib/protocol';
import type { ActionRequest } from '../../../lib/protocol';
import { buildApp } from '../../../server/app';
import { openDatabase } from '../../../server/db/connect';
import type { DatabaseHandle } from '../../../server/db/connect';
import { ADMIN_TOKEN, FORUM_REQUEST, PUBLIC_URL, sameStorage, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';

const AGENT = 'agent:forum-helper';

describe('agent proposals on two replicas of one PostgreSQL', () => {
  let v: TestVerifier;
  let second: { app: FastifyInstance; database: DatabaseHandle };
  let alice: Device;
  let key: string;
  let n = 0;

  beforeAll(async () => {
    v = await startVerifier('postgres');
    alice = await v.enroll('alice');
    await v.registerAgent(AGENT, 'alice', ['forum.post'], ['http://127.0.0.1:8080']);
    key = ((await v.admin('POST', `/v1/admin/agents/${encodeURIComponent(AGENT)}/keys`)).json() as { key: string }).key;
    const database = await openDatabase(sameStorage(v.database));
    second = { database, app: await buildApp({ database, adminToken: ADMIN_TOKEN, publicUrl: PUBLIC_URL, now: () => v.clock.now }) };
  });
  afterAll(async () => {
    await second.app.close();
    await second.database.close();
    await v.close();
  });

  const on = (app: FastifyInstance) => ({
    propose: (request: ActionRequest) => app.inject({ method: 'POST', url: '/v1/proposals', headers: { authorization: `Bearer ${key}` }, payload: { request, scope: 'forum.post', summary: 'A reply' } }),
    poll: (id: string, wait: number) => app.inject({ method: 'GET', url: `/v1/proposals/${id}?wait=${wait}`, headers: { authorization: `Bearer ${key}` } }),
    async decide(id: string, decision: unknown) {
      const url = `/v1/proposals/${id}/decision`;
      const authorization = await mintDeviceProof({ privateKey: alice.privateKey, kid: alice.kid, method: 'POST', url: `${PUBLIC_URL}${url}`, now: v.seconds() });
      return app.inject({ method: 'POST', url, headers: { authorization }, payload: decision as object });
    },
  });
  const request = (): ActionRequest => ({ ...FORUM_REQUEST, body: JSON.stringify({ body: `reply ${++n}`, author_kind: 'assistant' }) });

  it('an agent long-polling replica 1 gets the token of a decision taken on replica 2', async () => {
    v.clock.now += 61_000;
    const req = request();
    const p = ProposalCreated.parse((await on(v.app).propose(req)).json());
    const waiting = on(v.app).poll(p.id, 30);
    const { token } = await v.mint(alice, { request: req, traceId: p.traceId });
    expect((await on(second.app).decide(p.id, { approve: token })).statusCode).toBe(200);
    expect(ProposalStatus.parse((await waiting).json())).toEqual({ id: p.id, state: 'approved', token, tokens: [token], approvers: ['alice'] });
  });

  it('attack: an approval and a rejection racing on two replicas — one wins, the other is 409', async () => {
    v.clock.now += 61_000;
    for (let i = 0; i < 4; i++) {
      const req = request();
      const p = ProposalCreated.parse((await on(i % 2 ? second.app : v.app).propose(req)).json());
      const { token } = await v.mint(alice, { request: req, traceId: p.traceId });
      const answers = await Promise.all([on(v.app).decide(p.id, { approve: token }), on(second.app).decide(p.id, { reject: { reason: 'no' } })]);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
    }
  });

  it('attack: the per-agent limit counts proposals made on every replica, even made at the same time', async () => {
    v.clock.now += 61_000;
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => on(i % 2 ? second.app : v.app).propose(request())));
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(5);
    expect(answers.filter((a) => a.statusCode === 429)).toHaveLength(3);
  });
});
