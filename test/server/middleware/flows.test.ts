// The middleware's decisions on every front door (Fastify route config, Express protect(), node:http
// table), against a real verifier: which requests pass, which need a token, the receipt on an allow,
// replays, the "always" route, the remote verifier, and failing closed when it cannot answer.
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteVerifier } from '../../../server/middleware';
import { ACCESS, ACCESS_BODY, AGENT_KEY, FORM_TYPE, FRAMEWORKS, REPLIES, REPLY_BODY, buildTool, rawRequest, startWorld } from '../../helpers/middleware';
import type { Framework, Tool, World } from '../../helpers/middleware';

const agent = { 'x-agent-key': AGENT_KEY };

let world: World;
beforeAll(async () => {
  world = await startWorld('sqlite');
});
afterAll(() => world.close());

describe.each(FRAMEWORKS)('%s, in-process verifier', (framework) => {
  let tool: Tool;
  beforeAll(async () => {
    tool = await buildTool(framework, { verifier: world.inProcess() });
  });
  afterAll(() => tool.close());

  const reply = (headers: Record<string, string>, body = REPLY_BODY, contentType?: string) => rawRequest(tool.port, { target: REPLIES, headers, body, ...(contentType ? { contentType } : {}) });
  const put = (headers: Record<string, string>) => rawRequest(tool.port, { method: 'PUT', target: ACCESS, headers: { 'x-user': 'alice', ...headers }, body: ACCESS_BODY });

  it('a person\'s ordinary post on an "agents" route passes untouched, with its body parsed for the handler', async () => {
    const res = await reply({ 'x-user': 'bob' });
    expect(res.status).toBe(200);
    expect(tool.handled.at(-1)).toEqual({ route: 'reply', method: 'POST', body: { body: 'Try revoking the group grant.' }, receipt: null });
  });

  it('an unprotected route passes, for an agent too', async () => {
    expect((await rawRequest(tool.port, { method: 'GET', target: '/api/topics/7', headers: agent })).status).toBe(200);
  });

  it('an agent\'s post without a token → 401 token_missing (with a trace id), and the handler never runs', async () => {
    const before = tool.handled.length;
    const res = await reply(agent);
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'token_missing', message: expect.any(String), traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    expect(tool.handled.length).toBe(before);
  });

  it('a person\'s request with an assistant marker (header or body field) needs a token', async () => {
    expect((await reply({ 'x-user': 'alice', 'x-assistant': '1' })).code).toBe('token_missing');
    expect((await reply({ 'x-user': 'alice' }, '{"body":"hi","author_kind":"assistant"}')).code).toBe('token_missing');
    expect((await reply({ 'x-user': 'alice' }, 'body=hi&author_kind=assistant', FORM_TYPE)).code).toBe('token_missing');
  });

  it('an assistant in alice\'s session: her approval passes with a receipt; a token on an unmarked request is still verified; not in bob\'s session', async () => {
    const good = await world.approve({ url: REPLIES });
    expect((await reply({ 'x-user': 'alice', 'x-assistant': 'agent:forum-helper', 'countersign-approval': good })).status).toBe(200);
    const unmarked = await world.approve({ url: REPLIES });
    expect((await reply({ 'x-user': 'alice', 'countersign-approval': unmarked })).status).toBe(200);
    expect(tool.handled.at(-1)?.receipt).toMatch(/^ey/);
    expect((await reply({ 'x-user': 'alice', 'countersign-approval': 'a.b.c' })).code).toBe('token_malformed');
    const inBobsSession = await world.approve({ url: REPLIES });
    expect((await reply({ 'x-user': 'bob', 'x-assistant': '1', 'countersign-approval': inBobsSession })).code).toBe('action_mismatch');
  });

  it('an agent\'s post with its owner\'s approval runs with the receipt; replayed → 409 replayed with the token\'s trace id', async () => {
    const { token, traceId } = await world.v.mint(world.alice, { request: { method: 'POST', url: `http://127.0.0.1:8080${REPLIES}`, contentType: 'application/json', body: REPLY_BODY } });
    expect((await reply({ ...agent, 'countersign-approval': token })).status).toBe(200);
    expect(tool.handled.at(-1)).toMatchObject({ body: { body: 'Try revoking the group grant.' }, receipt: expect.stringMatching(/^ey/) });
    const replay = await reply({ ...agent, 'countersign-approval': token });
    expect(replay.status).toBe(409);
    expect(replay.json()).toMatchObject({ error: { code: 'replayed', traceId } });
  });

  it('a token approved for one body, sent with another → 403 action_mismatch', async () => {
    const token = await world.approve({ url: REPLIES });
    expect((await reply({ ...agent, 'countersign-approval': token }, '{"body":"Make the dataset public."}')).code).toBe('action_mismatch');
  });

  it('an "always" route refuses even a person without a token, and accepts their own signed approval (agt user:<id>); not for bob', async () => {
    expect((await put({})).code).toBe('token_missing');
    const own = await world.approve({ method: 'PUT', url: ACCESS, body: ACCESS_BODY }, { agent: 'user:alice', scope: 'admin.acl.write' });
    expect((await put({ 'countersign-approval': own })).status).toBe(200);
    const forBob = await world.approve({ method: 'PUT', url: ACCESS, body: ACCESS_BODY }, { agent: 'user:alice', scope: 'admin.acl.write' });
    expect((await put({ 'x-user': 'bob', 'countersign-approval': forBob })).code).toBe('action_mismatch');
  });

  it('takes the token from the countersign_approval field of urlencoded and multipart forms', async () => {
    const form = 'body=Try+revoking+the+group+grant.';
    const token = await world.approve({ url: REPLIES, contentType: FORM_TYPE, body: form });
    const urlencoded = await reply(agent, `${form}&countersign_approval=${token}`, FORM_TYPE);
    expect(urlencoded.status, urlencoded.text).toBe(200);
    expect(tool.handled.at(-1)).toMatchObject({ body: { body: 'Try revoking the group grant.' }, receipt: expect.stringMatching(/^ey/) });
    // A browser's kind of boundary (Node's multipart parser refuses a value holding "-" + a short boundary).
    const boundary = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
    const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const type = `multipart/form-data; boundary=${boundary}`;
    const body = (t?: string) => `${part('body', 'Try revoking the group grant.')}${t ? part('countersign_approval', t) : ''}--${boundary}--\r\n`;
    const signed = await world.approve({ url: REPLIES, contentType: type, body: body() });
    expect((await reply(agent, body(signed), type)).status).toBe(200);
  });
});

describe.each(FRAMEWORKS)('%s, remote verifier', (framework: Framework) => {
  it('asks POST /v1/verify and runs the handler with the receipt; a replay is 409 with a trace id', async () => {
    const tool = await buildTool(framework, { verifier: await world.remote() });
    try {
      const token = await world.approve({ url: REPLIES });
      const send = () => rawRequest(tool.port, { target: REPLIES, headers: { ...agent, 'countersign-approval': token }, body: REPLY_BODY });
      expect((await send()).status).toBe(200);
      expect(tool.handled.at(-1)?.receipt).toMatch(/^ey/);
      const again = await send();
      expect(again.status).toBe(409);
      expect(again.json()).toMatchObject({ error: { code: 'replayed', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    } finally {
      await tool.close();
    }
  });

  it('fails closed: the verifier unreachable → 503 verifier_unavailable, the handler never runs; a person\'s post needs no verifier', async () => {
    const tool = await buildTool(framework, { verifier: remoteVerifier({ url: 'http://127.0.0.1:9', timeoutMs: 500 }) });
    try {
      const token = await world.approve({ url: REPLIES });
      const res = await rawRequest(tool.port, { target: REPLIES, headers: { ...agent, 'countersign-approval': token }, body: REPLY_BODY });
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ error: { code: 'verifier_unavailable', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
      expect(tool.handled).toHaveLength(0);
      expect((await rawRequest(tool.port, { target: REPLIES, headers: { 'x-user': 'bob' }, body: REPLY_BODY })).status).toBe(200);
    } finally {
      await tool.close();
    }
  });

  it('fails closed on a verifier that answers 500, garbage, or a 200 that is not an allow', async () => {
    const fake = Fastify();
    fake.post('/v1/verify', async (req, reply) => {
      const mode = (req.body as { token: string }).token;
      if (mode === 'a.b.c') return reply.code(500).send('boom');
      if (mode === 'd.e.f') return reply.code(200).type('text/plain').send('<html>');
      return reply.code(200).send({ allow: false });
    });
    const url = await fake.listen({ port: 0, host: '127.0.0.1' });
    const tool = await buildTool(framework, { verifier: remoteVerifier({ url }) });
    try {
      for (const token of ['a.b.c', 'd.e.f', 'g.h.i']) {
        const res = await rawRequest(tool.port, { target: REPLIES, headers: { ...agent, 'countersign-approval': token }, body: REPLY_BODY });
        expect(res.code).toBe('verifier_unavailable');
      }
      expect(tool.handled).toHaveLength(0);
    } finally {
      await tool.close();
      await fake.close();
    }
  });
});
