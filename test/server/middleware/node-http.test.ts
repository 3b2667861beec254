// What only the node:http front door does: it keeps the route table and its one strict matcher, the
// tool dispatches on the match it is handed (route, params), ambiguous paths are refused on every
// request, and a table whose routes could match one request is refused at creation.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countersignNode } from '../../../server/middleware';
import type { Guarded } from '../../../server/middleware';
import { AGENT_KEY, MARKERS, REPLY_BODY, TOOL_ORIGIN, principalFrom, rawRequest, startWorld } from '../../helpers/middleware';
import type { World } from '../../helpers/middleware';

let world: World;
beforeAll(async () => {
  world = await startWorld('sqlite');
});
afterAll(() => world.close());

const routes = [
  { method: 'POST', path: '/api/topics/:id/replies', scope: 'forum.post', content: '/body', handler: 'reply' },
  { method: 'PUT', path: '/api/datasets/*/members/:user', scope: 'forum.post', requires: 'always', handler: 'member' },
] as const;

describe('node:http: the table decides, the tool dispatches on its match', () => {
  let port: number;
  let close: () => Promise<void>;
  const seen: Array<Guarded<(typeof routes)[number]> & { unread?: string }> = [];

  beforeAll(async () => {
    const guard = countersignNode({ origin: TOOL_ORIGIN, routes, markers: MARKERS, verifier: world.inProcess(), principal: (req) => principalFrom(req.headers) });
    const server = createServer(async (req, res) => {
      const g = await guard(req, res);
      if (!g.ok) return;
      if (g.route === null) {
        // Unprotected: the body is the tool's to read.
        let unread = '';
        for await (const chunk of req) unread += String(chunk);
        seen.push({ ...g, unread });
        res.writeHead(200).end('{"open":true}');
        return;
      }
      seen.push(g);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ handler: g.route.handler }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(() => close());

  it('hands over the route as given, its params and captures (decoded), the URL, the parse and the bytes', async () => {
    const res = await rawRequest(port, { method: 'PUT', target: '/api/datasets/pay%2Droll/members/b%C3%B6b?x=1', headers: { 'x-user': 'alice', 'countersign-approval': await world.approve({ method: 'PUT', url: '/api/datasets/pay%2Droll/members/b%C3%B6b?x=1', body: '{"role":"reader"}' }, { agent: 'user:alice' }) }, body: '{"role":"reader"}' });
    expect(res.json()).toEqual({ handler: 'member' });
    const g = seen.at(-1)!;
    expect(g).toMatchObject({
      ok: true,
      route: routes[1],
      params: { user: 'böb' },
      captures: ['pay-roll', 'böb'],
      url: `${TOOL_ORIGIN}/api/datasets/pay%2Droll/members/b%C3%B6b?x=1`,
      body: { role: 'reader' },
      countersign: { scope: 'forum.post', receipt: expect.stringMatching(/^ey/) },
    });
    expect(g.ok && g.route !== null && g.rawBody.toString('utf8')).toBe('{"role":"reader"}');
  });

  it('a path routers could read two ways is refused 400 on every request, protected or not', async () => {
    const before = seen.length;
    for (const target of ['//api/topics/1/replies', '/static//x', '/static/../api/topics/1/replies', '/static/%2e%2e/x', '/static/.', '/a%2fb', '/a%5Cb', '/a\\b', '/a;jsessionid=1', '/a%00', '/a/%zz', '*']) {
      for (const method of ['GET', 'POST']) {
        const res = await rawRequest(port, { method, target, headers: { 'x-agent-key': AGENT_KEY } });
        expect(res.status, `${method} ${target}`).toBe(400);
        expect(res.code).toBe('payload_invalid');
        expect(res.json().error?.traceId).toMatch(/^[0-9a-f]{32}$/);
      }
    }
    expect(seen.length).toBe(before);
  });

  it('case, trailing slash and extra segments do not match a protected route; the tool gets route null with the body unread', async () => {
    for (const target of ['/API/topics/1/replies', '/api/topics/1/replies/', '/api/topics/1/replies/x', '/api/topics/replies']) {
      const res = await rawRequest(port, { target, headers: { 'x-agent-key': AGENT_KEY }, body: REPLY_BODY });
      expect(res.json(), target).toEqual({ open: true });
      expect(seen.at(-1)).toMatchObject({ ok: true, route: null, unread: REPLY_BODY });
    }
  });

  it('refuses a table that could match one request twice, or a malformed route (TypeError)', () => {
    const base = { origin: TOOL_ORIGIN, verifier: world.inProcess(), principal: () => ({ kind: 'user' as const, id: 'x' }) };
    const clashes = [
      [{ method: 'POST', path: '/a/*', scope: 's' }, { method: 'POST', path: '/a/b', scope: 't' }],
      [{ method: 'POST', path: '/a/:x/c', scope: 's' }, { method: 'POST', path: '/a/*/*', scope: 's' }],
    ];
    for (const table of clashes) expect(() => countersignNode({ ...base, routes: table })).toThrow(/can match the same request/);
    expect(() => countersignNode({ ...base, routes: [{ method: 'POST', path: '/a/*', scope: 's' }, { method: 'PUT', path: '/a/b', scope: 's' }, { method: 'POST', path: '/a/*/c', scope: 's' }] })).not.toThrow();
    for (const bad of [{ method: 'post', path: '/a', scope: 's' }, { method: 'POST', path: 'a', scope: 's' }, { method: 'POST', path: '/a//b', scope: 's' }, { method: 'POST', path: '/a?x', scope: 's' }, { method: 'POST', path: '/a', scope: '' }]) {
      expect(() => countersignNode({ ...base, routes: [bad] }), JSON.stringify(bad)).toThrow(TypeError);
    }
  });
});
