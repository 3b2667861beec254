// The middleware mounted in a Fastify tool: which requests pass, which need a token, in-process and
// remote verifier modes, and failing closed when the verifier is down.
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countersignFastify, inProcessVerifier, remoteVerifier } from '../../../server/middleware';
import type { VerifierClient } from '../../../server/middleware';
import { startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';
import { ACCESS_BODY, MARKERS, REPLY_BODY, ROUTES, TOOL_ORIGIN, principalFrom } from './tool-scenario';

async function buildTool(verifier: VerifierClient): Promise<{ app: FastifyInstance; stored: Array<{ body: unknown; receipt?: string }> }> {
  const stored: Array<{ body: unknown; receipt?: string }> = [];
  const app = Fastify();
  await app.register(countersignFastify, { routes: ROUTES, markers: MARKERS, verifier, origin: TOOL_ORIGIN, principal: (req) => principalFrom(req.headers) });
  app.post('/api/topics/:id/replies', async (req) => {
    stored.push({ body: req.body, ...(req.countersign ? { receipt: req.countersign.receipt } : {}) });
    return { ok: true, receipt: req.countersign?.receipt ?? null };
  });
  app.put('/api/datasets/:id/access', async (req) => ({ ok: true, applied: req.body }));
  app.get('/api/topics/:id', async () => ({ ok: true }));
  return { app, stored };
}

describe('Fastify middleware, in-process verifier', () => {
  let v: TestVerifier;
  let alice: Device;
  let tool: Awaited<ReturnType<typeof buildTool>>;

  beforeAll(async () => {
    v = await startVerifier('sqlite');
    alice = await v.enroll('alice');
    await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], [TOOL_ORIGIN]);
    tool = await buildTool(inProcessVerifier(v.app.verifier.verifyDeps));
  });
  afterAll(async () => {
    await tool.app.close();
    await v.close();
  });

  const reply = (headers: Record<string, string>, payload = REPLY_BODY) =>
    tool.app.inject({ method: 'POST', url: '/api/topics/7/replies', headers: { 'content-type': 'application/json', ...headers }, payload });

  it('a person\'s ordinary post on an "agents" route passes untouched', async () => {
    const res = await reply({ 'x-user': 'bob' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, receipt: null });
  });

  it('GET requests and unlisted routes pass', async () => {
    expect((await tool.app.inject({ method: 'GET', url: '/api/topics/7', headers: { 'x-agent-key': 'forum-helper-key' } })).statusCode).toBe(200);
  });

  it('an agent\'s post without a token → 401 token_missing, and the handler never runs', async () => {
    const before = tool.stored.length;
    const res = await reply({ 'x-agent-key': 'forum-helper-key' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'token_missing' } });
    expect(tool.stored.length).toBe(before);
  });

  it('a person\'s request with an assistant marker (header or body field) needs a token', async () => {
    expect((await reply({ 'x-user': 'alice', 'x-assistant': '1' })).json()).toMatchObject({ error: { code: 'token_missing' } });
    expect((await reply({ 'x-user': 'alice' }, '{"body":"hi","author_kind":"assistant"}')).json()).toMatchObject({ error: { code: 'token_missing' } });
  });

  it('an assistant in alice\'s session: her approval passes and yields a receipt; in bob\'s session it does not', async () => {
    const request = { method: 'POST', url: `${TOOL_ORIGIN}/api/topics/7/replies`, contentType: 'application/json', body: REPLY_BODY };
    const good = await v.mint(alice, { request, agent: 'agent:forum-helper' });
    expect((await reply({ 'x-user': 'alice', 'x-assistant': 'agent:forum-helper', 'countersign-approval': good.token })).statusCode).toBe(200);
    // No marker at all (the assistant filled a form in her session): a token present is still verified.
    const unmarked = await v.mint(alice, { request, agent: 'agent:forum-helper' });
    const res = await reply({ 'x-user': 'alice', 'countersign-approval': unmarked.token });
    expect((res.json() as { receipt: string | null }).receipt).toMatch(/^ey/);
    const garbage = await reply({ 'x-user': 'alice', 'countersign-approval': 'a.b.c' });
    expect(garbage.json()).toMatchObject({ error: { code: 'token_malformed' } });
    const inBobsSession = await v.mint(alice, { request, agent: 'agent:forum-helper' });
    expect((await reply({ 'x-user': 'bob', 'x-assistant': '1', 'countersign-approval': inBobsSession.token })).json()).toMatchObject({ error: { code: 'action_mismatch' } });
  });

  it('an agent\'s post with its owner\'s approval runs, and the handler gets the receipt', async () => {
    const { token } = await v.mint(alice, { request: { method: 'POST', url: `${TOOL_ORIGIN}/api/topics/7/replies`, contentType: 'application/json', body: REPLY_BODY } });
    const res = await reply({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': token });
    expect(res.statusCode).toBe(200);
    expect(tool.stored.at(-1)).toEqual({ body: { body: 'Try revoking the group grant.' }, receipt: expect.any(String) });
  });

  it('the same token replayed → 409 replayed', async () => {
    const { token } = await v.mint(alice, { request: { method: 'POST', url: `${TOOL_ORIGIN}/api/topics/7/replies`, contentType: 'application/json', body: REPLY_BODY } });
    expect((await reply({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': token })).statusCode).toBe(200);
    expect((await reply({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': token })).json()).toMatchObject({ error: { code: 'replayed' } });
  });

  it('a token approved for one body, sent with another → 403 action_mismatch', async () => {
    const { token } = await v.mint(alice, { request: { method: 'POST', url: `${TOOL_ORIGIN}/api/topics/7/replies`, contentType: 'application/json', body: REPLY_BODY } });
    const res = await reply({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, '{"body":"Make the dataset public."}');
    expect(res.json()).toMatchObject({ error: { code: 'action_mismatch' } });
  });

  it('an "always" route refuses even a person without a token, and accepts their own signed approval (agt user:<id>)', async () => {
    const put = (headers: Record<string, string>) =>
      tool.app.inject({ method: 'PUT', url: '/api/datasets/42/access', headers: { 'content-type': 'application/json', 'x-user': 'alice', ...headers }, payload: ACCESS_BODY });
    expect((await put({})).json()).toMatchObject({ error: { code: 'token_missing' } });
    const request = { method: 'PUT', url: `${TOOL_ORIGIN}/api/datasets/42/access`, contentType: 'application/json', body: ACCESS_BODY };
    const own = await v.mint(alice, { request, agent: 'user:alice', scope: 'admin.acl.write' });
    expect((await put({ 'countersign-approval': own.token })).statusCode).toBe(200);
    const forBob = await v.mint(alice, { request, agent: 'user:alice', scope: 'admin.acl.write' });
    const asBob = await tool.app.inject({ method: 'PUT', url: '/api/datasets/42/access', headers: { 'content-type': 'application/json', 'x-user': 'bob', 'countersign-approval': forBob.token }, payload: ACCESS_BODY });
    expect(asBob.json()).toMatchObject({ error: { code: 'action_mismatch' } });
  });
});

describe('Fastify middleware, remote verifier', () => {
  let v: TestVerifier;
  let alice: Device;
  let verifierUrl: string;

  beforeAll(async () => {
    v = await startVerifier('sqlite');
    alice = await v.enroll('alice');
    await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], [TOOL_ORIGIN]);
    verifierUrl = await v.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => v.close());

  it('asks POST /v1/verify and runs the handler with the receipt', async () => {
    const tool = await buildTool(remoteVerifier({ url: verifierUrl }));
    const { token } = await v.mint(alice, { request: { method: 'POST', url: `${TOOL_ORIGIN}/api/topics/7/replies`, contentType: 'application/json', body: REPLY_BODY } });
    const res = await tool.app.inject({ method: 'POST', url: '/api/topics/7/replies', headers: { 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, payload: REPLY_BODY });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { receipt: string }).receipt).toMatch(/^ey/);
    const again = await tool.app.inject({ method: 'POST', url: '/api/topics/7/replies', headers: { 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, payload: REPLY_BODY });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: { code: 'replayed', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    await tool.app.close();
  });

  it('fails closed: the verifier unreachable → 503 verifier_unavailable, the handler never runs', async () => {
    const tool = await buildTool(remoteVerifier({ url: 'http://127.0.0.1:9', timeoutMs: 500 }));
    const { token } = await v.mint(alice);
    const res = await tool.app.inject({ method: 'POST', url: '/api/topics/7/replies', headers: { 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, payload: REPLY_BODY });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: 'verifier_unavailable' } });
    expect(tool.stored).toHaveLength(0);
    // A person's ordinary post does not need the verifier at all.
    expect((await tool.app.inject({ method: 'POST', url: '/api/topics/7/replies', headers: { 'content-type': 'application/json', 'x-user': 'bob' }, payload: REPLY_BODY })).statusCode).toBe(200);
    await tool.app.close();
  });

  it('fails closed on a verifier that answers 500 or garbage', async () => {
    const fake = Fastify();
    fake.post('/v1/verify', async (_req, reply) => reply.code(500).send('boom'));
    const url = await fake.listen({ port: 0, host: '127.0.0.1' });
    const tool = await buildTool(remoteVerifier({ url }));
    const res = await tool.app.inject({ method: 'POST', url: '/api/topics/7/replies', headers: { 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', 'countersign-approval': 'a.b.c' }, payload: REPLY_BODY });
    expect(res.json()).toMatchObject({ error: { code: 'verifier_unavailable' } });
    await tool.app.close();
    await fake.close();
  });
});

describe('Fastify middleware, form submissions', () => {
  it('takes the token from the countersign_approval field of urlencoded and multipart forms', async () => {
    const v = await startVerifier('sqlite');
    try {
      const alice = await v.enroll('alice');
      await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], [TOOL_ORIGIN]);
      const app = Fastify();
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, b, done) => done(null, b));
      app.addContentTypeParser('multipart/form-data', { parseAs: 'string' }, (_r, b, done) => done(null, b));
      await app.register(countersignFastify, { routes: ROUTES, markers: MARKERS, verifier: inProcessVerifier(v.app.verifier.verifyDeps), origin: TOOL_ORIGIN, principal: (req) => principalFrom(req.headers) });
      app.post('/api/topics/:id/replies', async (req) => ({ receipt: req.countersign?.receipt ?? null }));
      const url = `${TOOL_ORIGIN}/api/topics/7/replies`;

      const form = 'body=Try+revoking+the+group+grant.';
      const { token } = await v.mint(alice, { request: { method: 'POST', url, contentType: 'application/x-www-form-urlencoded', body: form } });
      const urlencoded = await app.inject({ method: 'POST', url: '/api/topics/7/replies', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-agent-key': 'forum-helper-key' }, payload: `${form}&countersign_approval=${token}` });
      expect(urlencoded.statusCode).toBe(200);
      expect((urlencoded.json() as { receipt: string }).receipt).toMatch(/^ey/);

      // A browser's kind of boundary. (Node 20's multipart parser, undici's, refuses a part whose value
      // contains "-" followed by the boundary: with a 2-letter boundary like "XB" about 15% of random
      // tokens did, which made this test flaky; a browser's 38-character boundary cannot occur in a token.)
      const boundary = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
      const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
      const multipartBody = (t?: string) => `${part('body', 'Try revoking the group grant.')}${t ? part('countersign_approval', t) : ''}--${boundary}--\r\n`;
      const signed = await v.mint(alice, { request: { method: 'POST', url, contentType: `multipart/form-data; boundary=${boundary}`, body: multipartBody() } });
      const multipart = await app.inject({ method: 'POST', url: '/api/topics/7/replies', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-agent-key': 'forum-helper-key' }, payload: multipartBody(signed.token) });
      expect(multipart.statusCode).toBe(200);
      await app.close();
    } finally {
      await v.close();
    }
  });
});
