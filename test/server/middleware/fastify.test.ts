// What only the Fastify front door does: protection declared in a route's config and attached by the
// plugin's onRoute hook in front of the route's own hooks; a protected route the plugin never saw
// fails closed; the route's body limit; the tool's own hooks and schema see the protocol's parse.
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countersignFastify } from '../../../server/middleware';
import { AGENT_KEY, FORM_TYPE, MARKERS, REPLIES, REPLY_BODY, TOOL_ORIGIN, principalFrom, startWorld } from '../../helpers/middleware';
import type { World } from '../../helpers/middleware';

const agent = { 'x-agent-key': AGENT_KEY, host: '127.0.0.1:8080' };
const protection = { countersign: { scope: 'forum.post', content: 'body' } };

let world: World;
beforeAll(async () => {
  world = await startWorld('sqlite');
});
afterAll(() => world.close());

async function plugin(app: FastifyInstance): Promise<void> {
  await app.register(countersignFastify, { origin: TOOL_ORIGIN, markers: MARKERS, verifier: world.inProcess(), principal: (req) => principalFrom(req.headers) });
}

describe('Fastify: routes the plugin did not see never run unchecked', () => {
  it('a protected route registered before the plugin, in the same context, is refused (500) at request time', async () => {
    const app = Fastify();
    let ran = 0;
    app.post('/api/topics/:id/replies', { config: protection }, async () => ++ran);
    await plugin(app);
    const res = await app.inject({ method: 'POST', url: REPLIES, headers: { ...agent, 'content-type': 'application/json' }, payload: REPLY_BODY });
    expect(res.statusCode).toBe(500);
    expect(res.json().message).toMatch(/registered before the countersign plugin/);
    expect(ran).toBe(0);
    await app.close();
  });

  it('so is one in a child plugin registered before it', async () => {
    const app = Fastify();
    let ran = 0;
    await app.register(async (child) => {
      await child.register(async (grandchild) => {
        grandchild.post('/api/topics/:id/replies', { config: protection }, async () => ++ran);
      });
    });
    await plugin(app);
    const res = await app.inject({ method: 'POST', url: REPLIES, headers: { ...agent, 'content-type': 'application/json' }, payload: REPLY_BODY });
    expect(res.statusCode).toBe(500);
    expect(ran).toBe(0);
    await app.close();
  });

  it('registered first, it reaches routes in child plugins registered after it', async () => {
    const app = Fastify();
    await plugin(app);
    await app.register(
      async (child) => {
        child.post('/api/topics/:id/replies', { config: protection }, async () => 'ran');
      },
      { prefix: '/forum' },
    );
    const res = await app.inject({ method: 'POST', url: `/forum${REPLIES}`, headers: { ...agent, 'content-type': 'application/json' }, payload: REPLY_BODY });
    expect(res.json()).toMatchObject({ error: { code: 'token_missing' } });
    const token = await world.approve({ url: `/forum${REPLIES}` });
    expect((await app.inject({ method: 'POST', url: `/forum${REPLIES}`, headers: { ...agent, 'content-type': 'application/json', 'countersign-approval': token }, payload: REPLY_BODY })).body).toBe('ran');
    await app.close();
  });

  it('a mistaken protection fails at start, naming the route', async () => {
    for (const bad of [{ scope: '' }, { scope: 'x', requires: 'sometimes' }, { scope: 'x', content: '' }, 'forum.post']) {
      const app = Fastify();
      await plugin(app);
      expect(() => app.post('/x', { config: { countersign: bad as never } }, async () => 'x')).toThrow(/POST \/x/);
      await app.close();
    }
  });

  it('the plugin refuses to start without a valid origin', async () => {
    for (const origin of [undefined, 'forum.corp.example', 'http://forum.corp.example/api']) {
      const app = Fastify();
      await expect(app.register(countersignFastify, { origin: origin as never, verifier: world.inProcess(), principal: () => ({ kind: 'user', id: 'x' }) })).rejects.toThrow(TypeError);
      await app.close().catch(() => undefined);
    }
  });
});

describe('Fastify: the route\'s own hooks, schema and body limit', () => {
  it('the route\'s preValidation and its schema see the protocol\'s parse, never the tool parser\'s', async () => {
    const app = Fastify();
    await plugin(app);
    // A parser that reads a form its own way: the last value of a repeated field wins.
    app.addContentTypeParser(FORM_TYPE, { parseAs: 'string' }, (_r, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
    const seen: unknown[] = [];
    app.post(
      '/api/topics/:id/replies',
      {
        config: protection,
        schema: { body: { type: 'object', required: ['body'], properties: { body: { type: 'string' }, author_kind: { type: 'string', enum: ['person', 'assistant'] } } } },
        preValidation: async (req) => void seen.push({ ...(req.body as object) }),
      },
      async (req) => ({ ...(req.body as object) }),
    );
    const send = (payload: string) => app.inject({ method: 'POST', url: REPLIES, headers: { host: '127.0.0.1:8080', 'x-user': 'bob', 'content-type': FORM_TYPE }, payload });
    // The tool's parser reads a person's post here ("person", the last value); the route's hook and
    // schema get both values, and the schema refuses the array: the marked post never passes as a person's.
    const res = await send('body=hi&author_kind=assistant&author_kind=person');
    expect(res.statusCode).toBe(400);
    expect(seen.at(-1)).toEqual({ body: 'hi', author_kind: ['assistant', 'person'] });
    expect((await send('body=hi&author_kind=assistant')).json()).toMatchObject({ error: { code: 'token_missing' } });
    expect((await send('body=hi&author_kind=person')).json()).toEqual({ body: 'hi', author_kind: 'person' });
    await app.close();
  });

  it('the route\'s bodyLimit, over the instance\'s, is the limit: 413 in DESIGN.md\'s shape', async () => {
    const app = Fastify({ bodyLimit: 1024 * 1024 });
    await plugin(app);
    app.post('/api/topics/:id/replies', { config: protection, bodyLimit: 1024 }, async () => 'ran');
    const res = await app.inject({ method: 'POST', url: REPLIES, headers: { host: '127.0.0.1:8080', 'x-user': 'bob', 'content-type': 'application/json' }, payload: JSON.stringify({ body: 'x'.repeat(2000) }) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: { code: 'payload_too_large', message: expect.stringContaining('1024'), traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    expect((await app.inject({ method: 'POST', url: REPLIES, headers: { host: '127.0.0.1:8080', 'x-user': 'bob', 'content-type': 'application/json' }, payload: REPLY_BODY })).body).toBe('ran');
    await app.close();
  });

  it('a URL rewritten before routing (rewriteUrl) is refused: the URL approved would not be the URL routed', async () => {
    const app = Fastify({ rewriteUrl: (req) => (req.url ?? '/').toLowerCase() });
    await plugin(app);
    let ran = 0;
    app.post('/api/topics/:id/replies', { config: protection }, async () => ++ran);
    const upper = '/API/TOPICS/1/REPLIES';
    const token = await world.approve({ url: upper });
    const res = await app.inject({ method: 'POST', url: upper, headers: { ...agent, 'content-type': 'application/json', 'countersign-approval': token }, payload: REPLY_BODY });
    expect(res.json()).toMatchObject({ error: { code: 'payload_invalid' } });
    expect(ran).toBe(0);
    await app.close();
  });

  it('request.countersignRawBody holds the digested bytes, request.countersign the approval', async () => {
    const app = Fastify();
    await plugin(app);
    app.post('/api/topics/:id/replies', { config: protection }, async (req) => ({ raw: req.countersignRawBody?.toString('utf8'), countersign: req.countersign }));
    const token = await world.approve({ url: REPLIES });
    const res = await app.inject({ method: 'POST', url: REPLIES, headers: { ...agent, 'content-type': 'application/json', 'countersign-approval': token }, payload: REPLY_BODY });
    expect(res.json()).toMatchObject({ raw: REPLY_BODY, countersign: { receipt: expect.stringMatching(/^ey/), scope: 'forum.post', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    await app.close();
  });
});
