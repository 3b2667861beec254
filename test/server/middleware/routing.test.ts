// Attack class: the route that runs is not the route that was checked (issue 13, item 3). Each
// framework, with its real routing options, gets request-target variants of the protected
// `POST /api/topics/1/replies`: case, trailing and duplicate slashes, percent-encoding, `;`
// parameters, dot segments, backslashes, fragments, an added query. For every variant: an agent with
// no token is refused, a token approved for the canonical URL is refused (action_mismatch when the
// framework routes the variant to the protected handler: the URL digested is the URL as received),
// and the variant never reaches the handler. The canonical request with its token passes (the control).
// Also HEAD on a protected GET, and method overrides.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyServerOptions } from 'fastify';
import { ACCESS, ACCESS_BODY, AGENT_KEY, EXPORT, REPLIES, REPLY_BODY, buildTool, rawRequest, startWorld } from '../../helpers/middleware';
import type { Framework, RawResponse, Tool, World } from '../../helpers/middleware';

/** Variants of REPLIES that some router reads as the same route. */
const VARIANTS = [
  '/API/topics/1/replies',
  '/Api/Topics/1/Replies',
  '/api/topics/1/replies/',
  '//api/topics/1/replies',
  '/api//topics/1/replies',
  '/api/topics/1//replies',
  '/%61pi/topics/1/replies',
  '/api/topics/%31/replies',
  '/api/topics/1/replie%73',
  '/api/topics/1/replies;x=1',
  '/api/topics/1;x=1/replies',
  '/api/topics/1/replies?x=1',
  '/api/topics/1/replies?',
  '/api/topics/1/replies#frag',
  '/api/topics/1/../1/replies',
  '/api/topics/2/../1/replies',
  '/api/topics/1/%2e%2e/1/replies',
  '/api/topics/1/./replies',
  '/api\\topics/1/replies',
  '/api/topics/01/replies',
  '/api/topics/1/replies%2F',
] as const;

/** The variants each configuration routes to the protected handler (found by trying them, see the module header). */
const ROUTED_BY_FASTIFY = [
  '/%61pi/topics/1/replies',
  '/api/topics/%31/replies',
  '/api/topics/1/replie%73',
  '/api/topics/1;x=1/replies',
  '/api/topics/1/replies?x=1',
  '/api/topics/1/replies?',
  '/api/topics/1/replies#frag',
  '/api/topics/01/replies',
];
const withoutSemicolonParam = ROUTED_BY_FASTIFY.filter((t) => t !== '/api/topics/1;x=1/replies');
const ROUTED_BY_EXPRESS = ['/api/topics/%31/replies', '/api/topics/1;x=1/replies', '/api/topics/1/replies?x=1', '/api/topics/1/replies?', '/api/topics/1/replies#frag', '/api/topics/01/replies'];

/** Fastify 5 reads `useSemicolonDelimiter` from routerOptions (lib/route.js routerKeys); its types do not list it yet. */
const semicolon = (options: Record<string, unknown>) => options as NonNullable<FastifyServerOptions['routerOptions']>;

interface Config {
  name: string;
  framework: Framework;
  fastify?: FastifyServerOptions;
  express?: Record<string, unknown>;
  routed: readonly string[];
}

const CONFIGS: Config[] = [
  { name: 'Fastify defaults', framework: 'fastify', routed: ROUTED_BY_FASTIFY },
  { name: 'Fastify ignoreTrailingSlash', framework: 'fastify', fastify: { routerOptions: { ignoreTrailingSlash: true } }, routed: [...ROUTED_BY_FASTIFY, '/api/topics/1/replies/'] },
  {
    name: 'Fastify ignoreDuplicateSlashes',
    framework: 'fastify',
    fastify: { routerOptions: { ignoreDuplicateSlashes: true } },
    routed: [...ROUTED_BY_FASTIFY, '//api/topics/1/replies', '/api//topics/1/replies', '/api/topics/1//replies'],
  },
  { name: 'Fastify caseSensitive: false', framework: 'fastify', fastify: { routerOptions: { caseSensitive: false } }, routed: [...ROUTED_BY_FASTIFY, '/API/topics/1/replies', '/Api/Topics/1/Replies'] },
  // `;` starts the query there: `/api/topics/1;x=1/replies` is `/api/topics/1`, a 404.
  { name: 'Fastify useSemicolonDelimiter', framework: 'fastify', fastify: { routerOptions: semicolon({ useSemicolonDelimiter: true }) }, routed: [...withoutSemicolonParam, '/api/topics/1/replies;x=1'] },
  {
    name: 'Fastify, every relaxation at once',
    framework: 'fastify',
    fastify: { routerOptions: semicolon({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, caseSensitive: false, useSemicolonDelimiter: true }) },
    routed: [
      ...withoutSemicolonParam,
      '/api/topics/1/replies/',
      '//api/topics/1/replies',
      '/api//topics/1/replies',
      '/api/topics/1//replies',
      '/API/topics/1/replies',
      '/Api/Topics/1/Replies',
      '/api/topics/1/replies;x=1',
    ],
  },
  // Express's defaults: case-insensitive, trailing slash optional.
  { name: 'Express defaults', framework: 'express', routed: [...ROUTED_BY_EXPRESS, '/API/topics/1/replies', '/Api/Topics/1/Replies', '/api/topics/1/replies/'] },
  { name: 'Express case sensitive routing', framework: 'express', express: { 'case sensitive routing': true }, routed: [...ROUTED_BY_EXPRESS, '/api/topics/1/replies/'] },
  { name: 'Express strict routing', framework: 'express', express: { 'strict routing': true }, routed: [...ROUTED_BY_EXPRESS, '/API/topics/1/replies', '/Api/Topics/1/Replies'] },
  { name: 'Express case sensitive and strict', framework: 'express', express: { 'case sensitive routing': true, 'strict routing': true }, routed: ROUTED_BY_EXPRESS },
  // The middleware's own matcher: literal segments compared percent-decoded; ambiguous paths refused on every route.
  { name: 'node:http', framework: 'node', routed: ['/%61pi/topics/1/replies', '/api/topics/%31/replies', '/api/topics/1/replie%73', '/api/topics/1/replies?x=1', '/api/topics/1/replies?', '/api/topics/1/replies#frag', '/api/topics/01/replies'] },
];

/** A target the core refuses whatever the router did: a fragment, a dot segment, a backslash (not in WHATWG normal form). */
function notNormal(target: string): boolean {
  if (target.includes('#')) return true;
  const url = `http://127.0.0.1:8080${target}`;
  try {
    return new URL(url).href !== url;
  } catch {
    return true;
  }
}

/** The node:http door refuses these paths before any route is matched. */
function ambiguousPath(target: string): boolean {
  const path = target.split(/[?#]/, 1)[0]!;
  return /\/\/|;|\\|%2e|%2f|\/\.\.?(\/|$)/i.test(path);
}

const agent = { 'x-agent-key': AGENT_KEY };

let world: World;
beforeAll(async () => {
  world = await startWorld('sqlite');
});
afterAll(() => world.close());

describe.each(CONFIGS)('$name: a request-target variant never runs the protected route unchecked', (config) => {
  let tool: Tool;
  beforeAll(async () => {
    tool = await buildTool(config.framework, { verifier: world.inProcess(), ...(config.fastify ? { fastify: config.fastify } : {}), ...(config.express ? { express: config.express } : {}) });
  });
  afterAll(() => tool.close());

  /** What refusing the variant looks like here. */
  function expectRefused(res: RawResponse, target: string, withToken: boolean): void {
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    if (config.framework === 'node' && ambiguousPath(target)) {
      expect(res.code).toBe('payload_invalid');
    } else if (config.routed.includes(target)) {
      // Routed to the protected handler: the middleware ran on it.
      expect(res.code).toBe(notNormal(target) ? 'payload_invalid' : withToken ? 'action_mismatch' : 'token_missing');
      expect(res.json().error?.traceId).toMatch(/^[0-9a-f]{32}$/);
    } else {
      expect(res.status).toBe(404);
    }
  }

  it('the control: the canonical request with its token runs, once', async () => {
    const before = tool.handled.length;
    const token = await world.approve({ url: REPLIES });
    const res = await rawRequest(tool.port, { target: REPLIES, headers: { ...agent, 'countersign-approval': token }, body: REPLY_BODY });
    expect(res.status, res.text).toBe(200);
    expect(tool.handled.length).toBe(before + 1);
    expect(tool.handled.at(-1)).toMatchObject({ route: 'reply', body: { body: 'Try revoking the group grant.' }, receipt: expect.stringMatching(/^ey/) });
  });

  it.each(VARIANTS)('%s: no token → refused; the canonical URL\'s token → refused; the handler never runs', async (target) => {
    const before = tool.handled.length;
    expectRefused(await rawRequest(tool.port, { target, headers: agent, body: REPLY_BODY }), target, false);
    const token = await world.approve({ url: REPLIES });
    expectRefused(await rawRequest(tool.port, { target, headers: { ...agent, 'countersign-approval': token }, body: REPLY_BODY }), target, true);
    expect(tool.handled.length).toBe(before);
  });

  it('a variant runs only with a token approved for that very URL (what is approved is what runs)', async () => {
    const routed = config.routed.filter((t) => !notNormal(t) && !(config.framework === 'node' && ambiguousPath(t)));
    expect(routed.length).toBeGreaterThan(0);
    for (const target of routed) {
      const token = await world.approve({ url: target });
      const res = await rawRequest(tool.port, { target, headers: { ...agent, 'countersign-approval': token }, body: REPLY_BODY });
      expect(res.status, `${target}: ${res.text}`).toBe(200);
    }
  });

  it('HEAD on a protected GET route is protected too, and digested as HEAD', async () => {
    const before = tool.handled.length;
    const head = await rawRequest(tool.port, { method: 'HEAD', target: EXPORT, headers: agent });
    expect(head.status).toBe(401);
    const forGet = await world.approve({ method: 'GET', url: EXPORT, contentType: null, body: null });
    expect((await rawRequest(tool.port, { method: 'HEAD', target: EXPORT, headers: { ...agent, 'countersign-approval': forGet } })).status).toBe(403);
    expect(tool.handled.length).toBe(before);
    const forHead = await world.approve({ method: 'HEAD', url: EXPORT, contentType: null, body: null });
    expect((await rawRequest(tool.port, { method: 'HEAD', target: EXPORT, headers: { ...agent, 'countersign-approval': forHead } })).status).toBe(200);
    expect(tool.handled.at(-1)).toMatchObject({ route: 'exportData', method: 'HEAD' });
  });

  it('an unprotected route stays open, and the protected one next to it does not', async () => {
    expect((await rawRequest(tool.port, { method: 'GET', target: '/api/topics/1', headers: agent })).status).toBe(200);
    expect((await rawRequest(tool.port, { method: 'GET', target: EXPORT, headers: agent })).code).toBe('token_missing');
  });
});

describe('method overrides', () => {
  it('Express: a token for the POST that the client sent does not run the PUT that a method override routed it to', async () => {
    const tool = await buildTool('express', { verifier: world.inProcess(), methodOverride: true });
    try {
      const person = { 'x-user': 'alice', 'x-http-method-override': 'PUT' };
      // No token: the PUT route ("always") refuses even a person.
      expect((await rawRequest(tool.port, { target: ACCESS, headers: person, body: ACCESS_BODY })).code).toBe('token_missing');
      // alice approved her own POST of this body to this URL: the router runs the PUT, which is digested as PUT.
      const forPost = await world.approve({ method: 'POST', url: ACCESS, body: ACCESS_BODY }, { agent: 'user:alice', scope: 'admin.acl.write' });
      const res = await rawRequest(tool.port, { target: ACCESS, headers: { ...person, 'countersign-approval': forPost }, body: ACCESS_BODY });
      expect(res.code).toBe('action_mismatch');
      expect(tool.handled).toHaveLength(0);
      // What runs is the PUT: a token for that PUT is what it takes.
      const forPut = await world.approve({ method: 'PUT', url: ACCESS, body: ACCESS_BODY }, { agent: 'user:alice', scope: 'admin.acl.write' });
      expect((await rawRequest(tool.port, { target: ACCESS, headers: { ...person, 'countersign-approval': forPut }, body: ACCESS_BODY })).status).toBe(200);
      expect(tool.handled).toMatchObject([{ route: 'access', method: 'PUT' }]);
    } finally {
      await tool.close();
    }
  });

  it('Fastify has no method override: X-HTTP-Method-Override is ignored, a POST to the PUT route is 404', async () => {
    const tool = await buildTool('fastify', { verifier: world.inProcess() });
    try {
      const forPut = await world.approve({ method: 'PUT', url: ACCESS, body: ACCESS_BODY }, { agent: 'user:alice', scope: 'admin.acl.write' });
      for (const header of ['x-http-method-override', 'x-http-method', 'x-method-override']) {
        const res = await rawRequest(tool.port, { target: ACCESS, headers: { 'x-user': 'alice', [header]: 'PUT', 'countersign-approval': forPut }, body: ACCESS_BODY });
        expect(res.status).toBe(404);
      }
      const query = await rawRequest(tool.port, { target: `${ACCESS}?_method=PUT`, headers: { 'x-user': 'alice', 'countersign-approval': forPut }, body: ACCESS_BODY });
      expect(query.status).toBe(404);
      expect(tool.handled).toHaveLength(0);
    } finally {
      await tool.close();
    }
  });

  it('node:http dispatches on the method as received: an override header changes nothing', async () => {
    const tool = await buildTool('node', { verifier: world.inProcess() });
    try {
      const res = await rawRequest(tool.port, { target: ACCESS, headers: { 'x-user': 'alice', 'x-http-method-override': 'PUT' }, body: ACCESS_BODY });
      expect(res.status).toBe(404);
      expect(tool.handled).toHaveLength(0);
    } finally {
      await tool.close();
    }
  });
});
