// Policy merge: managed over local over defaults with sources; site lists checked pattern by pattern
// and the adapters string one adapter at a time; every pattern the extension cannot use reported (which
// pattern, why) and its site failed closed, never silently dropped.
import { describe, expect, it } from 'vitest';
import { effectivePolicy } from '@/lib/extension/effective-policy';
import type { SiteAdapter } from '@/lib/protocol';

const builtin: SiteAdapter[] = [{ id: 'intraforum', match: ['http://127.0.0.1/*'], actions: [] }];
const adapter = (id: string, match = `https://${id}.corp.example/*`) => ({ id, match: [match], actions: [{ scope: 'x.write', request: { method: 'POST', url: '/api/*' } }] });

describe('effective policy', () => {
  it('defaults when nothing is set; built-in adapters (a fixture: the extension ships none) apply', () => {
    const view = effectivePolicy({}, undefined, builtin);
    expect(view.policy).toMatchObject({ verifierUrl: null, approvalTtlSeconds: 120, killSwitch: false, strictMode: false });
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['intraforum']);
    expect(view.sources).toMatchObject({ verifierUrl: 'default', adapters: 'built-in' });
    expect(view.problems).toEqual([]);
  });

  it('managed values override local ones, and each value says where it came from', () => {
    const view = effectivePolicy(
      { verifierUrl: 'https://verifier.corp.example', killSwitch: true },
      { verifierUrl: 'http://127.0.0.1:8787', strictMode: true },
    );
    expect(view.policy).toMatchObject({ verifierUrl: 'https://verifier.corp.example', killSwitch: true, strictMode: true });
    expect(view.sources).toMatchObject({ verifierUrl: 'managed', killSwitch: 'managed', strictMode: 'local', approvalTtlSeconds: 'default' });
  });

  it('a malformed adapters string is one problem; built-in adapters still apply', () => {
    const view = effectivePolicy({ adapters: '[{"id": "payroll",' }, {}, builtin);
    expect(view.problems).toEqual([expect.objectContaining({ source: 'managed', field: 'adapters' })]);
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['intraforum']);
  });

  it('one bad adapter among good ones is reported by id and field; the others apply; its sites fail closed', () => {
    const bad = { ...adapter('payroll'), posts: { container: 'article', author: null, body: '.b', receipt: 'data-r' } };
    const view = effectivePolicy({ adapters: JSON.stringify([adapter('wiki'), bad, adapter('tickets')]) }, {}, builtin);
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['wiki', 'tickets', 'intraforum']);
    expect(view.problems).toEqual([{ source: 'managed', field: 'adapters[1].posts.author', message: expect.any(String), adapterId: 'payroll' }]);
    expect(view.failClosed).toEqual(['https://payroll.corp.example/*']);
  });

  it('a managed adapter replaces the built-in one of the same id', () => {
    const view = effectivePolicy({ adapters: JSON.stringify([adapter('intraforum', 'https://forum.corp.example/*')]) }, {}, builtin);
    expect(view.policy.adapters).toHaveLength(1);
    expect(view.policy.adapters[0]!.match).toEqual(['https://forum.corp.example/*']);
    expect(view.adapterSources).toEqual({ intraforum: 'managed' });
  });

  it('adapters are listed admin\'s first (managed, local), built-in last, each with its source', () => {
    const view = effectivePolicy({ adapters: JSON.stringify([adapter('wiki')]) }, { adapters: JSON.stringify([adapter('tickets')]) }, builtin);
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['wiki', 'tickets', 'intraforum']);
    expect(view.adapterSources).toEqual({ wiki: 'managed', tickets: 'local', intraforum: 'built-in' });
  });

  it('an invalid key is a problem and falls back, without dropping the valid keys', () => {
    const view = effectivePolicy({ approvalTtlSeconds: 9999, protectedSites: ['https://ok.corp.example/*', 'not a pattern'], strictMode: true, surprise: 1 }, {});
    expect(view.policy.approvalTtlSeconds).toBe(120);
    expect(view.policy.strictMode).toBe(true);
    expect(view.problems.map((p) => p.field).sort()).toEqual(['approvalTtlSeconds', 'protectedSites.1', 'surprise']);
    // The usable pattern still protects; the other names no site at all, and says so.
    expect(view.policy.protectedSites).toEqual(['https://ok.corp.example/*']);
    expect(view.problems.find((p) => p.field === 'protectedSites.1')?.message).toMatch(/"not a pattern".*names no site/);
    expect(view.failClosed).toEqual([]);
  });

  it('a port pattern is a pattern like any other: kept as written, no problem', () => {
    const view = effectivePolicy({ protectedSites: ['http://wiki.corp:8080/*', 'https://*.corp.example:8443/app/*'], blockedSites: ['http://127.0.0.1:8787/*'] }, {});
    expect(view.problems).toEqual([]);
    expect(view.policy.protectedSites).toEqual(['http://wiki.corp:8080/*', 'https://*.corp.example:8443/app/*']);
    expect(view.policy.blockedSites).toEqual(['http://127.0.0.1:8787/*']);
  });

  it.each([
    ['protectedSites', 'http://wiki.corp:99999/*', /port 99999/, '*://wiki.corp/*'],
    ['protectedSites', 'http://wiki.corp:8080', /needs a path/, '*://wiki.corp/*'],
    ['protectedSites', 'gopher://wiki.corp/*', /scheme gopher/, '*://wiki.corp/*'],
    ['protectedSites', 'wss://chat.corp/*', /http and https pages only/, '*://chat.corp/*'],
    ['blockedSites', 'https://pay*roll.corp/*', /host/, null],
    ['blockedSites', 'http://*.payroll.corp:0/*', /port 0/, '*://*.payroll.corp/*'],
  ])('%s %s: a problem naming the pattern and why, and its site fails closed', (key, pattern, why, site) => {
    const view = effectivePolicy({ [key]: ['https://ok.corp.example/*', pattern] }, {});
    expect(view.problems).toEqual([{ source: 'managed', field: `${key}.1`, message: expect.stringContaining(JSON.stringify(pattern)) }]);
    expect(view.problems[0]!.message).toMatch(why);
    expect(view.policy[key as 'protectedSites' | 'blockedSites']).toEqual(['https://ok.corp.example/*']);
    expect(view.failClosed).toEqual(site ? [site] : []);
    if (site) expect(view.problems[0]!.message).toContain(`fails closed on ${site}`);
  });

  it('an adapter with an unparsable match pattern is reported with the pattern and why; its sites fail closed; the others apply', () => {
    const bad = { ...adapter('payroll'), match: ['https://payroll.corp.example/*', 'http://payroll.corp.example:70000/*', 'http://ledger.corp.example:8080'] };
    const view = effectivePolicy({ adapters: JSON.stringify([adapter('wiki'), bad]) }, {});
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['wiki']);
    expect(view.problems).toEqual([
      { source: 'managed', field: 'adapters[1].match.1', adapterId: 'payroll', message: expect.stringMatching(/"http:\/\/payroll.corp.example:70000\/\*".*port 70000 is out of range/) },
      { source: 'managed', field: 'adapters[1].match.2', adapterId: 'payroll', message: expect.stringMatching(/"http:\/\/ledger.corp.example:8080".*path/) },
    ]);
    expect(view.failClosed.sort()).toEqual(['*://ledger.corp.example/*', '*://payroll.corp.example/*', 'https://payroll.corp.example/*']);
  });

  it('a policy that is not an object is a problem, not a crash', () => {
    expect(effectivePolicy('nonsense', [1, 2]).problems).toHaveLength(2);
  });
});
