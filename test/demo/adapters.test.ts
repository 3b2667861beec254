// The built-in site adapters: valid SiteAdapters (as the extension parses policy), no nulls, and true
// to the demo tools they describe: the middleware's routes and markers, and the served markup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteAdapter, parseAdapters } from '../../lib/protocol';
import { BUILTIN_ADAPTERS } from '../../lib/adapters/builtin';
import { CONSOLE_ROUTES, FORUM_ROUTES, MARKERS } from '../../demo/protection';
import { CONSOLE_ORIGIN, FORUM_ORIGIN, dom, startDemoWorld } from './world';
import type { DemoWorld } from './world';

const byId = (id: string) => BUILTIN_ADAPTERS.find((a) => a.id === id)!;

/** A match pattern without a port matches its host on any port (Chrome): compare host names. */
function matchesHost(pattern: string, origin: string): boolean {
  const m = /^(https?):\/\/([^/:]+)\/\*$/.exec(pattern);
  const url = new URL(origin);
  return m !== null && `${m[1]}:` === url.protocol && m[2] === url.hostname;
}

/** `*` stands for one path segment. */
function urlPatternMatches(pattern: string, path: string): boolean {
  const p = pattern.split('/');
  const s = path.split('/');
  return p.length === s.length && p.every((seg, i) => seg === '*' || seg === s[i]);
}

describe('built-in site adapters', () => {
  it('are valid SiteAdapters, unchanged by parsing, with no null anywhere', () => {
    expect(BUILTIN_ADAPTERS.map((a) => a.id)).toEqual(['intraforum', 'access-console']);
    for (const adapter of BUILTIN_ADAPTERS) expect(SiteAdapter.parse(adapter)).toEqual(adapter);
    const parsed = parseAdapters(JSON.stringify(BUILTIN_ADAPTERS));
    expect(parsed.problems).toEqual([]);
    expect(parsed.adapters).toEqual(BUILTIN_ADAPTERS);
    expect(JSON.stringify(BUILTIN_ADAPTERS)).not.toContain('null');
  });

  it('tell the two tools apart by host: Intraforum on 127.0.0.1, the Access console on localhost', () => {
    expect(byId('intraforum').match).toEqual(['http://127.0.0.1/*']);
    expect(byId('access-console').match).toEqual(['http://localhost/*']);
    expect(matchesHost(byId('intraforum').match[0]!, FORUM_ORIGIN)).toBe(true);
    expect(matchesHost(byId('intraforum').match[0]!, CONSOLE_ORIGIN)).toBe(false);
    expect(matchesHost(byId('access-console').match[0]!, CONSOLE_ORIGIN)).toBe(true);
    expect(matchesHost(byId('access-console').match[0]!, FORUM_ORIGIN)).toBe(false);
  });

  it('name exactly the requests the tools\' middleware protects, with its scopes and markers', () => {
    const pairs = [
      [byId('intraforum'), FORUM_ROUTES],
      [byId('access-console'), CONSOLE_ROUTES],
    ] as const;
    for (const [adapter, routes] of pairs) {
      expect(adapter.actions.map((a) => [a.request.method, a.request.url, a.scope, a.requires ?? 'agents'])).toEqual(routes.map((r) => [r.method, r.path, r.scope, r.requires ?? 'agents']));
      expect(adapter.assistant?.headers).toEqual(MARKERS.headers);
      expect(adapter.assistant?.fields).toEqual(MARKERS.fields);
      expect(adapter.assistant?.selectors).toEqual(['[data-assistant-draft]']);
    }
    // The post's text is read from the same field by the extension and by the middleware.
    expect(byId('intraforum').actions[0]!.content).toBe(FORUM_ROUTES[0]!.content);
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
      const res = await w.demo.forum.inject({ method: 'POST', url: '/api/topics/1/replies', headers: { 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, payload: body });
      if (res.statusCode !== 201) throw new Error(res.body);
    });
    afterAll(() => w.close());

    it('Intraforum\'s topic page has the adapter\'s form, content field, assistant draft and posts', async () => {
      const adapter = byId('intraforum');
      const action = adapter.actions[0]!;
      const cookie = await w.signIn('forum', 'bob');
      const doc = dom(await w.demo.forum.inject({ method: 'GET', url: '/t/1', headers: { cookie } }));
      const form = doc.querySelector(action.form!)!;
      expect(form).not.toBeNull();
      expect(form.getAttribute('method')?.toUpperCase()).toBe(action.request.method);
      expect(urlPatternMatches(action.request.url, form.getAttribute('action')!)).toBe(true);
      expect(form.querySelector(`[name="${action.content}"]`)).not.toBeNull();
      for (const selector of adapter.assistant!.selectors!) expect(doc.querySelector(selector)).not.toBeNull();

      const posts = [...doc.querySelectorAll(adapter.posts!.container)];
      expect(posts.length).toBeGreaterThanOrEqual(3);
      for (const post of posts) {
        expect(post.querySelector(adapter.posts!.author)?.textContent).toBeTruthy();
        expect(post.querySelector(adapter.posts!.body)).not.toBeNull();
      }
      const signed = posts.filter((p) => p.hasAttribute(adapter.posts!.receipt));
      expect(signed).toHaveLength(1);
      const receipt = signed[0]!.getAttribute(adapter.posts!.receipt)!;
      await expect(w.readReceipt(receipt, signed[0]!.querySelector(adapter.posts!.body)!.textContent!)).resolves.toBeDefined();
    });

    it('the Access console\'s page has form#access, and the adapter\'s "before" URL answers the current access', async () => {
      const adapter = byId('access-console');
      const action = adapter.actions[0]!;
      const cookie = await w.signIn('console', 'alice');
      const doc = dom(await w.demo.console.inject({ method: 'GET', url: '/datasets/payroll-2026', headers: { cookie } }));
      expect(doc.querySelector(action.form!)).not.toBeNull();
      const datasetId = doc.querySelector(action.form!)!.getAttribute('data-dataset-id')!;
      expect(urlPatternMatches(action.request.url, `/api/datasets/${datasetId}/access`)).toBe(true);
      const before = action.before as { get: string };
      const res = await w.demo.console.inject({ method: 'GET', url: before.get.replace('{1}', datasetId), headers: { cookie } });
      expect(res.json()).toEqual({ visibility: 'team-only', groups: ['payroll-team'] });
    });
  });
});
