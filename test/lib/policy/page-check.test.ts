// "Test this page": whether a URL is protected, by which adapter from which layer with which actions,
// blocked, or failing closed with the problem that makes it so; and the messages for input that is no
// page URL. Run on effective policies built by the real effectivePolicy. Node only (tests).
import { describe, expect, it } from 'vitest';
import { consoleAdapter, demoSitePolicy, forumAdapter } from '../../../demo/adapters';
import { effectivePolicy, sitesClosedBy } from '@/lib/policy/effective-policy';
import { actionText, checkPage } from '@/lib/policy/page-check';
import type { PageCheck } from '@/lib/policy/page-check';
import { siteConfig } from '@/lib/policy/site-adapters';

const FORUM = 'http://127.0.0.1:8080';
const CONSOLE = 'http://localhost:8081';
/** An adapter an admin got wrong: its match is fine, its action's method is not (lower case). */
const payroll = { id: 'payroll', match: ['https://payroll.corp.example/*'], actions: [{ scope: 'payroll.write', request: { method: 'post', url: '/api/runs' } }] };
/** And one whose match names a port no URL can have. */
const wiki = { id: 'wiki', match: ['http://wiki.corp.example:70000/*'], actions: [] };

const managed = {
  ...demoSitePolicy({ forum: FORUM, console: CONSOLE }),
  blockedSites: ['http://localhost:8081/admin/*', 'https://hr.corp.example/*'],
  adapters: JSON.stringify([forumAdapter(FORUM), consoleAdapter(CONSOLE), payroll, wiki]),
};
const view = effectivePolicy(managed, {});

function check(url: string, v = view): PageCheck {
  const result = checkPage(v, url);
  if (!result.ok) throw new Error(result.message);
  return result.check;
}

describe('checkPage', () => {
  it('a forum page: protected by its pattern, adapter intraforum from managed policy with its action', () => {
    const c = check(`${FORUM}/t/1`);
    expect(c).toMatchObject({
      protected: true,
      protectedBy: ['http://127.0.0.1:8080/*'],
      adapter: { id: 'intraforum', source: 'managed', match: ['http://127.0.0.1:8080/*'], agent: 'agent:forum-helper', actions: [{ scope: 'forum.post', method: 'POST', url: '/api/topics/*/replies', requires: 'agents' }] },
      blockedBy: [],
      failClosed: [],
      killSwitch: false,
    });
    expect(c.findings).toContain('Action forum.post: POST /api/topics/*/replies, held when an assistant sends it.');
    expect(c.findings).toContain('Adapter intraforum (from managed policy, matching http://127.0.0.1:8080/*; its assistant is agent:forum-helper).');
  });

  it('agrees with what the extension holds with (siteConfig) on every URL it is given', () => {
    for (const url of [`${FORUM}/t/1`, `${CONSOLE}/datasets/x`, 'https://payroll.corp.example/runs', 'http://wiki.corp.example/Main', 'https://elsewhere.example/', `http://127.0.0.1:9999/`]) {
      const c = check(url);
      const config = siteConfig(view, url);
      expect([url, c.protected, c.adapter?.id ?? null]).toEqual([url, config.protected, config.adapter?.id ?? null]);
    }
  });

  it('an "always" action says a person\'s request is held too; the console\'s admin path is blocked', () => {
    const c = check(`${CONSOLE}/admin/users`);
    expect(c.adapter?.actions).toEqual([{ scope: 'admin.acl.write', method: 'PUT', url: '/api/datasets/*/access', requires: 'always' }]);
    expect(c.findings).toContain('Action admin.acl.write: PUT /api/datasets/*/access, held always, a person\'s request too.');
    expect(c.blockedBy).toEqual(['http://localhost:8081/admin/*']);
    expect(c.findings.join(' ')).toMatch(/Blocked by blockedSites http:\/\/localhost:8081\/admin\/\*: .*never be approved or released/);
    // The console's other pages are not blocked.
    expect(check(`${CONSOLE}/datasets/x`).blockedBy).toEqual([]);
  });

  it('attack: an admin\'s typo in an adapter — its site fails closed, and the check says which adapter and why', () => {
    const c = check('https://payroll.corp.example/runs');
    expect(c.protected).toBe(true);
    expect(c.adapter).toBeNull();
    expect(c.failClosed).toHaveLength(1);
    expect(c.failClosed[0]!.pattern).toBe('https://payroll.corp.example/*');
    expect(c.failClosed[0]!.problems).toEqual([expect.objectContaining({ source: 'managed', adapterId: 'payroll', field: 'adapters[2].actions.0.request.method' })]);
    expect(c.findings[0]).toMatch(/^Fails closed under https:\/\/payroll\.corp\.example\/\*: requests are held and never released until the policy is fixed\. Why: managed adapters\[2\]\.actions\.0\.request\.method \(adapter payroll\): /);
  });

  it('attack: a match pattern with an impossible port — the site it still names fails closed, whatever port the page has', () => {
    for (const url of ['http://wiki.corp.example/Main', 'https://wiki.corp.example:8443/Main']) {
      const c = check(url);
      expect(c.protected).toBe(true);
      expect(c.failClosed.map((r) => r.pattern)).toEqual(['*://wiki.corp.example/*']);
      expect(c.failClosed[0]!.problems[0]).toMatchObject({ adapterId: 'wiki', field: 'adapters[3].match.0', message: expect.stringMatching(/port 70000 is out of range/) });
    }
  });

  it('a page no policy names: not protected; a blocked site that is not protected says nothing is seen there to block', () => {
    const c = check('https://elsewhere.example/');
    expect(c).toMatchObject({ protected: false, protectedBy: [], adapter: null, failClosed: [] });
    expect(c.findings).toEqual(['Not protected: no protectedSites pattern includes this URL, so Countersign holds nothing here.']);
    expect(check('https://hr.corp.example/').findings.join(' ')).toMatch(/Listed in blockedSites https:\/\/hr\.corp\.example\/\*, but the site is not protected/);
  });

  it('the forum\'s adapter on another port matches nothing: ports count', () => {
    expect(check(`http://127.0.0.1:9999/t/1`)).toMatchObject({ protected: false, adapter: null, otherAdapters: [] });
  });

  it('an adapter whose site is not in protectedSites: not protected, and the check says what to add', () => {
    const v = effectivePolicy({ adapters: JSON.stringify([forumAdapter(FORUM)]) }, {});
    const c = check(`${FORUM}/t/1`, v);
    expect(c).toMatchObject({ protected: false, adapter: null, otherAdapters: ['intraforum'] });
    expect(c.findings.join(' ')).toMatch(/adapter intraforum matches this URL, but applies only where protectedSites names the site/);
  });

  it('a protected site with no adapter: every non-GET request is held as generic.write', () => {
    const v = effectivePolicy({ protectedSites: ['https://tool.corp.example/*'] }, {});
    expect(check('https://tool.corp.example/x', v).findings.join(' ')).toMatch(/No adapter matches.*generic\.write/);
  });

  it('the adapter from the verifier\'s organisation policy names that layer; a local one, local', () => {
    const org = effectivePolicy({ protectedSites: [`${FORUM}/*`] }, {}, [], { version: 2, updatedAt: 1, policy: { adapters: [forumAdapter(FORUM)] } });
    expect(check(`${FORUM}/t/1`, org).adapter?.source).toBe('verifier');
    const local = effectivePolicy({}, { protectedSites: [`${FORUM}/*`], adapters: JSON.stringify([forumAdapter(FORUM)]) });
    expect(check(`${FORUM}/t/1`, local).adapter?.source).toBe('local');
  });

  it('the kill switch is said first: the policy\'s, or the one the background found with its reasons', () => {
    expect(check(`${FORUM}/t/1`, effectivePolicy({ ...managed, killSwitch: true }, {})).findings[0]).toMatch(/^The kill switch is on: /);
    const verifierKill = checkPage(view, `${FORUM}/t/1`, { engaged: true, reasons: ['The verifier\'s kill switch is engaged (global).'] });
    expect(verifierKill.ok && verifierKill.check.findings[0]).toBe('The kill switch is on (The verifier\'s kill switch is engaged (global).): nothing an assistant does is approved or released anywhere until it is off.');
    const off = checkPage(view, `${FORUM}/t/1`, { engaged: false, reasons: ['stale'] });
    expect(off.ok && off.check).toMatchObject({ killSwitch: false, killReasons: [] });
  });

  it.each([
    ['', /^Enter a page URL/],
    ['   ', /^Enter a page URL/],
    ['forum.corp.example/t/1', /"forum\.corp\.example\/t\/1" is not an absolute URL/],
    ['ftp://files.corp.example/x', /http and https pages only; a ftp URL is never protected/],
    ['javascript:alert(1)', /http and https pages only/],
  ])('input %j is no page URL: a clear message', (input, message) => {
    const result = checkPage(view, input);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(message);
  });
});

describe('sitesClosedBy: the sites a problem fails closed, named in its message too', () => {
  it('every problem that fails sites closed names them, an adapter problem each of its adapter\'s sites', () => {
    const v = effectivePolicy({ protectedSites: ['http://a.corp:99999/*'], adapters: JSON.stringify([{ id: 'two', match: ['https://b.corp/*', 'https://c.corp:0/*'], actions: 'x' }]) }, {});
    const closed = v.problems.flatMap(sitesClosedBy);
    expect(new Set(closed)).toEqual(new Set(v.failClosed));
    expect(v.problems.find((p) => p.field === 'adapters[0].match.1')?.message).toMatch(/fails closed on \*:\/\/c\.corp\/\*, https:\/\/b\.corp\/\* \(held, never released\)$/);
  });

  it('a duplicate adapter id names the sites of the copy that fails closed', () => {
    const v = effectivePolicy({ adapters: JSON.stringify([forumAdapter(FORUM), { ...forumAdapter('http://10.0.0.1:8080'), id: 'intraforum' }]) }, {});
    expect(v.problems).toEqual([expect.objectContaining({ field: 'adapters[1].id', adapterId: 'intraforum' })]);
    expect(sitesClosedBy(v.problems[0]!)).toEqual(['http://10.0.0.1:8080/*']);
  });

  it('a problem naming no site gives none', () => {
    expect(sitesClosedBy({})).toEqual([]);
    const v = effectivePolicy({ protectedSites: ['not a pattern'] }, {});
    expect(v.problems).toHaveLength(1);
    expect(sitesClosedBy(v.problems[0]!)).toEqual([]);
    expect(v.problems[0]!.message).toMatch(/nothing fails closed for it/);
  });

  it('the browser\'s refusal of a pattern names its site too', () => {
    expect(sitesClosedBy({ closes: ['*://odd_host.corp/*'] })).toEqual(['*://odd_host.corp/*']);
  });
});

describe('actionText', () => {
  it('says scope, method, path and whose requests', () => {
    expect(actionText({ scope: 'wiki.edit', method: 'POST', url: '/api.php', requires: 'agents' })).toBe('wiki.edit: POST /api.php, held when an assistant sends it');
  });
});
