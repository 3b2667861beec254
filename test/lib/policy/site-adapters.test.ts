// Which policy applies to a page: match patterns with ports protect only their port and a portless one
// every port; among the adapters that match, an admin's beats a built-in one (a fixture: the extension
// ships none) and then the most specific match wins; which action a request is comes from its method
// and path only. Node only (tests).
import { describe, expect, it } from 'vitest';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import { adapterFor, isProtected, requestAction, siteConfig } from '@/lib/policy/site-adapters';
import type { SiteAdapter } from '@/lib/protocol/index';

const adapter = (id: string, ...match: string[]): SiteAdapter => ({ id, match, actions: [{ scope: `${id}.write`, request: { method: 'POST', url: '/api/*' } }] });
const idOf = (view: ReturnType<typeof effectivePolicy>, url: string) => adapterFor(view, url)?.id ?? null;

describe('match patterns with ports (Chrome\'s rules)', () => {
  const view = effectivePolicy({ protectedSites: ['http://wiki.corp:8080/*', 'http://tickets.corp/*'] }, {});

  it('a pattern with a port protects that port only', () => {
    expect(isProtected(view, 'http://wiki.corp:8080/p/Runbook')).toBe(true);
    expect(isProtected(view, 'http://wiki.corp:8081/p/Runbook')).toBe(false);
    expect(isProtected(view, 'http://wiki.corp/p/Runbook')).toBe(false);
    expect(isProtected(view, 'https://wiki.corp:8080/p/Runbook')).toBe(false);
  });

  it('a pattern without a port protects every port of its host', () => {
    for (const url of ['http://tickets.corp/t/1', 'http://tickets.corp:8080/t/1', 'http://tickets.corp:65535/t/1']) expect(isProtected(view, url)).toBe(true);
    expect(isProtected(view, 'http://other.corp/t/1')).toBe(false);
  });

  it('an explicit default port is the portless URL', () => {
    const https = effectivePolicy({ protectedSites: ['https://wiki.corp:443/*'] }, {});
    expect(isProtected(https, 'https://wiki.corp/p')).toBe(true);
    expect(isProtected(https, 'https://wiki.corp:8443/p')).toBe(false);
  });

  it('an adapter with a port pattern is the adapter of that port only', () => {
    const v = effectivePolicy({ protectedSites: ['http://wiki.corp/*'], adapters: JSON.stringify([adapter('wiki', 'http://wiki.corp:8080/*')]) }, {});
    expect(siteConfig(v, 'http://wiki.corp:8080/p').adapter?.id).toBe('wiki');
    // Another port of the same host is protected (portless protectedSites) but generic: no adapter.
    expect(siteConfig(v, 'http://wiki.corp:9090/p')).toEqual({ protected: true, adapter: null, strictMode: false });
  });

  it('an unparsable pattern protects its site anyway, failed closed: the site is held, never silently unprotected', () => {
    const v = effectivePolicy({ protectedSites: ['http://wiki.corp:99999/*'] }, {});
    expect(v.policy.protectedSites).toEqual([]);
    expect(isProtected(v, 'http://wiki.corp:8080/p')).toBe(true);
    expect(isProtected(v, 'http://elsewhere.corp/p')).toBe(false);
  });
});

describe('adapter precedence', () => {
  const builtinForum = adapter('demo-forum', 'http://127.0.0.1:8080/*');

  it('an admin\'s adapter beats a built-in one, even a more specific built-in one', () => {
    const view = effectivePolicy({ adapters: JSON.stringify([adapter('corp-forum', 'http://127.0.0.1/*')]) }, {}, [builtinForum]);
    expect(idOf(view, 'http://127.0.0.1:8080/t/1')).toBe('corp-forum');
    // Local policy is an admin's too.
    const local = effectivePolicy({}, { adapters: JSON.stringify([adapter('my-forum', 'http://127.0.0.1/*')]) }, [builtinForum]);
    expect(idOf(local, 'http://127.0.0.1:8080/t/1')).toBe('my-forum');
  });

  it('a built-in adapter still applies where no admin\'s adapter matches', () => {
    const view = effectivePolicy({ adapters: JSON.stringify([adapter('wiki', 'http://wiki.corp/*')]) }, {}, [builtinForum]);
    expect(idOf(view, 'http://127.0.0.1:8080/t/1')).toBe('demo-forum');
  });

  it.each([
    ['a port beats none', ['http://wiki.corp/*'], ['http://wiki.corp:8080/*'], 'http://wiki.corp:8080/p'],
    ['a longer host beats a wildcard domain', ['http://*.corp/*'], ['http://wiki.corp/*'], 'http://wiki.corp/p'],
    ['a narrower wildcard domain beats a wider one', ['http://*.corp/*'], ['http://*.wiki.corp/*'], 'http://eu.wiki.corp/p'],
    ['a longer path beats a shorter one', ['http://wiki.corp/*'], ['http://wiki.corp/admin/*'], 'http://wiki.corp/admin/users'],
    ['any host beats <all_urls> only by being named', ['<all_urls>'], ['http://wiki.corp/*'], 'http://wiki.corp/p'],
  ])('among admins\' adapters the most specific match wins: %s, in either order', (_name, general, specific, url) => {
    const forward = effectivePolicy({ adapters: JSON.stringify([adapter('general', ...general), adapter('specific', ...specific)]) }, {});
    const backward = effectivePolicy({ adapters: JSON.stringify([adapter('specific', ...specific), adapter('general', ...general)]) }, {});
    expect(idOf(forward, url)).toBe('specific');
    expect(idOf(backward, url)).toBe('specific');
  });

  it('an adapter counts its most specific matching pattern', () => {
    const view = effectivePolicy({ adapters: JSON.stringify([adapter('one', 'http://wiki.corp:8080/*'), adapter('many', 'http://*/*', 'http://wiki.corp:8080/admin/*')]) }, {});
    expect(idOf(view, 'http://wiki.corp:8080/admin/x')).toBe('many');
    expect(idOf(view, 'http://wiki.corp:8080/p')).toBe('one');
  });

  it('equally specific: managed beats local', () => {
    const view = effectivePolicy({ adapters: JSON.stringify([adapter('managed-one', 'http://wiki.corp/*')]) }, { adapters: JSON.stringify([adapter('local-one', 'http://wiki.corp/*')]) });
    expect(idOf(view, 'http://wiki.corp/p')).toBe('managed-one');
  });
});

describe('which action a request is: from its method and URL only', () => {
  const wiki: SiteAdapter = {
    id: 'wiki',
    match: ['http://wiki.corp/*'],
    actions: [
      { scope: 'wiki.comment', request: { method: 'POST', url: '/api/pages/*/comments' } },
      { scope: 'wiki.edit', request: { method: 'PUT', url: '/api/pages/*' } },
    ],
  };
  const at = (method: string, path: string) => requestAction(wiki, method, new URL(path, 'http://wiki.corp'));

  it('finds the action with its wildcards, a percent-encoded literal matching as decoded', () => {
    expect(at('PUT', '/api/pages/Runbook')).toEqual({ ok: true, action: wiki.actions[1], captures: ['Runbook'] });
    expect(at('post', '/api/pages/a%20b/comments')).toMatchObject({ ok: true, action: { scope: 'wiki.comment' }, captures: ['a b'] });
    expect(at('POST', '/api/%70ages/x/comments')).toMatchObject({ ok: true, action: { scope: 'wiki.comment' } });
  });

  it('refuses what is none of them, saying so; a variant of an action says that too', () => {
    expect(at('POST', '/api/users')).toEqual({ ok: false, reason: 'POST /api/users is none of the wiki adapter\'s actions' });
    expect(at('POST', '/api/pages/x')).toMatchObject({ ok: false, reason: expect.stringContaining('a variant of one') });
    expect(at('PUT', '/api/pages//comments')).toMatchObject({ ok: false });
  });

  it('refuses an ambiguous path even when it matches an action (encoded slash)', () => {
    expect(at('PUT', '/api/pages/a%2Fb')).toMatchObject({ ok: false, reason: expect.stringContaining('ambiguous') });
  });

  it('no adapter: the generic adapter, every request', () => {
    expect(requestAction(null, 'DELETE', new URL('http://tickets.corp/anything'))).toEqual({ ok: true, action: null, captures: [] });
  });
});
