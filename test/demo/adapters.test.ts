// The demo tools' site adapters (demo/adapters.ts), which npm start, the browser tests and the bench
// push as admin policy (the extension ships none): valid SiteAdapters, no nulls; each `match` names its
// tool's origin with its port, so it claims that tool and no other service on the host; and true to
// the tools they describe: the routes the middleware protects (demo/protection.ts) and the served markup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteAdapter, compilePathPattern, matchPath, matchesAny, parseAdapters } from '../../lib/protocol';
import { effectivePolicy } from '../../lib/policy/effective-policy';
import { adapterFor, isProtected } from '../../lib/policy/site-adapters';
import { DEMO_ORIGINS, consoleAdapter, demoAdapters, demoSitePolicy, forumAdapter, originPattern } from '../../demo/adapters';
import { CONSOLE_ROUTES, FORUM_ROUTES, MARKERS } from '../../demo/protection';
import { CONSOLE_ORIGIN, FORUM_ORIGIN, dom, startDemoWorld } from '../helpers/demo-world';
import type { DemoWorld } from '../helpers/demo-world';

const ADAPTERS = demoAdapters({ forum: FORUM_ORIGIN, console: CONSOLE_ORIGIN });
const byId = (id: string) => ADAPTERS.find((a) => a.id === id)!;

/** `*` stands for one path segment: the protocol's one path matcher, as the extension and the middleware match. */
const urlPatternMatches = (pattern: string, path: string) => matchPath(compilePathPattern(pattern), path) !== null;

describe('the demo site adapters', () => {
  it('are valid SiteAdapters, unchanged by parsing as the extension parses policy, with no null anywhere', () => {
    expect(ADAPTERS.map((a) => a.id)).toEqual(['intraforum', 'access-console']);
    for (const adapter of ADAPTERS) expect(SiteAdapter.parse(adapter)).toEqual(adapter);
    const parsed = parseAdapters(JSON.stringify(ADAPTERS));
    expect(parsed.problems).toEqual([]);
    expect(parsed.adapters).toEqual(ADAPTERS);
    expect(JSON.stringify(ADAPTERS)).not.toContain('null');
  });

  it('name their tool\'s origin with its port: that tool only, not the other one nor another port of the host', () => {
    expect(byId('intraforum').match).toEqual(['http://127.0.0.1:8080/*']);
    expect(byId('access-console').match).toEqual(['http://localhost:8081/*']);
    expect(matchesAny(byId('intraforum').match, `${FORUM_ORIGIN}/t/1`)).toBe(true);
    expect(matchesAny(byId('intraforum').match, `${CONSOLE_ORIGIN}/t/1`)).toBe(false);
    expect(matchesAny(byId('intraforum').match, 'http://127.0.0.1:8787/v1/status')).toBe(false);
    expect(matchesAny(byId('access-console').match, `${CONSOLE_ORIGIN}/datasets/payroll-2026`)).toBe(true);
    expect(matchesAny(byId('access-console').match, 'http://localhost:3000/')).toBe(false);
  });

  it('follow the tools to any port (the browser tests serve them on free ports); the default ports are npm start\'s', () => {
    expect(forumAdapter('http://127.0.0.1:41234').match).toEqual(['http://127.0.0.1:41234/*']);
    expect(consoleAdapter().match).toEqual([`${DEMO_ORIGINS.console}/*`]);
    expect(originPattern('https://forum.corp.example')).toBe('https://forum.corp.example:443/*');
    expect(() => originPattern('http://127.0.0.1:8080/t/1')).toThrow(TypeError);
  });

  it('pushed as admin policy, protect the two tools and nothing else, each page getting its own adapter', () => {
    const view = effectivePolicy(demoSitePolicy({ forum: FORUM_ORIGIN, console: CONSOLE_ORIGIN }), {});
    expect(view.problems).toEqual([]);
    expect(adapterFor(view, `${FORUM_ORIGIN}/t/1`)?.id).toBe('intraforum');
    expect(adapterFor(view, `${CONSOLE_ORIGIN}/datasets/payroll-2026`)?.id).toBe('access-console');
    expect(isProtected(view, 'http://127.0.0.1:8787/')).toBe(false);
    expect(isProtected(view, 'http://localhost:5173/')).toBe(false);
  });

  it('name exactly the requests the tools\' middleware protects, with its scopes, requirements, content field and markers', () => {
    const pairs = [
      [byId('intraforum'), FORUM_ROUTES],
      [byId('access-console'), CONSOLE_ROUTES],
    ] as const;
    for (const [adapter, routes] of pairs) {
      const shape = (a: { method: string; path: string; scope: string; requires?: string; content?: string }) => [a.method, a.path, a.scope, a.requires ?? 'agents', a.content ?? null];
      expect(adapter.actions.map((a) => shape({ method: a.request.method, path: a.request.url, scope: a.scope, ...(a.requires ? { requires: a.requires } : {}), ...(a.content ? { content: a.content } : {}) }))).toEqual(routes.map(shape));
      expect(adapter.assistant?.headers).toEqual(MARKERS.headers);
      expect(adapter.assistant?.fields).toEqual(MARKERS.fields);
      expect(adapter.assistant?.selectors).toEqual(['[data-assistant-draft]']);
    }
    expect(byId('access-console').actions[0]).toEqual({
      scope: 'admin.acl.write',
      requires: 'always',
      request: { method: 'PUT', url: '/api/datasets/*/access' },
      form: 'form#access',
      before: { get: '/api/datasets/{1}/access' },
    });
    expect(byId('intraforum').agent).toBe('agent:forum-helper');
    expect(byId('access-console').agent).toBe('agent:access-helper');
    expect(byId('intraforum').posts).toEqual({ container: 'article.post', author: '.author', body: '.post-body', receipt: 'data-countersign-receipt' });
  });

  describe('against the served pages', () => {
    let w: DemoWorld;
    beforeAll(async () => {
      w = await startDemoWorld();
      const body = '{"body":"An approved answer.","author_kind":"assistant"}';
      const token = await w.approve(w.alice, { method: 'POST', url: `${FORUM_ORIGIN}/api/topics/1/replies`, contentType: 'application/json', body }, 'agent:forum-helper', 'forum.post');
      const res = await w.demo.forum.inject({ method: 'POST', url: '/api/topics/1/replies', headers: { host: new URL(FORUM_ORIGIN).host, 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, payload: body });
      if (res.statusCode !== 201) throw new Error(res.body);
    });
    afterAll(() => w.close());

    it('Intraforum\'s topic page has the adapter\'s form, content field, assistant draft and posts', async () => {
      const adapter = byId('intraforum');
      const action = adapter.actions[0]!;
      const cookie = await w.signIn('forum', 'bob');
      const doc = dom(await w.demo.forum.inject({ method: 'GET', url: '/t/1', headers: { host: new URL(FORUM_ORIGIN).host, cookie } }));
      const form = doc.querySelector(action.form!)!;
      expect(form).not.toBeNull();
      expect(form.getAttribute('method')?.toUpperCase()).toBe(action.request.method);
      expect(urlPatternMatches(action.request.url, form.getAttribute('action')!)).toBe(true);
      expect(form.querySelector(`[name="${action.content}"]`)).not.toBeNull();
      for (const selector of adapter.assistant!.selectors!) expect(doc.querySelector(selector)).not.toBeNull();

      const posts = [...doc.querySelectorAll(adapter.posts!.container)];
      expect(posts.length).toBeGreaterThanOrEqual(3);
      for (const post of posts) {
        expect(post.querySelector(adapter.posts!.author!)?.textContent).toBeTruthy();
        expect(post.querySelector(adapter.posts!.body)).not.toBeNull();
      }
      const signed = posts.filter((p) => p.hasAttribute(adapter.posts!.receipt!));
      expect(signed).toHaveLength(1);
      const receipt = signed[0]!.getAttribute(adapter.posts!.receipt!)!;
      await expect(w.readReceipt(receipt, signed[0]!.querySelector(adapter.posts!.body)!.textContent!)).resolves.toBeDefined();
    });

    it('the Access console\'s page has form#access, and the adapter\'s "before" URL answers the current access', async () => {
      const adapter = byId('access-console');
      const action = adapter.actions[0]!;
      const cookie = await w.signIn('console', 'alice');
      const doc = dom(await w.demo.console.inject({ method: 'GET', url: '/datasets/payroll-2026', headers: { host: new URL(CONSOLE_ORIGIN).host, cookie } }));
      expect(doc.querySelector(action.form!)).not.toBeNull();
      const datasetId = doc.querySelector(action.form!)!.getAttribute('data-dataset-id')!;
      expect(urlPatternMatches(action.request.url, `/api/datasets/${datasetId}/access`)).toBe(true);
      const before = action.before as { get: string };
      const res = await w.demo.console.inject({ method: 'GET', url: before.get.replace('{1}', datasetId), headers: { host: new URL(CONSOLE_ORIGIN).host, cookie } });
      expect(res.json()).toEqual({ visibility: 'team-only', groups: ['payroll-team'] });
    });
  });
});
