// Policy merge: managed over local over defaults with sources; site lists checked pattern by pattern
// and the adapters string one adapter at a time; every pattern the extension cannot use reported (which
// pattern, why) and its site failed closed, never silently dropped. The organisation policy from the
// verifier joined in: it only adds protection, never sets verifierUrl, and managed "off" ignores it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeSources, effectivePolicy } from '@/lib/policy/effective-policy';
import { adapterFor } from '@/lib/policy/site-adapters';
import type { SiteAdapter } from '@/lib/protocol/index';

const builtin: SiteAdapter[] = [{ id: 'intraforum', match: ['http://127.0.0.1/*'], actions: [] }];
const adapter = (id: string, match = `https://${id}.corp.example/*`) => ({ id, match: [match], actions: [{ scope: 'x.write', request: { method: 'POST', url: '/api/*' } }] });

describe('effective policy', () => {
  it('defaults when nothing is set; built-in adapters (a fixture: the extension ships none) apply', () => {
    const view = effectivePolicy({}, undefined, builtin);
    expect(view.policy).toMatchObject({ verifierUrl: null, approvalTtlSeconds: 120, killSwitch: false, strictMode: false });
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['intraforum']);
    expect(view.sources).toMatchObject({ verifierUrl: ['default'], adapters: ['built-in'], verifierPolicy: ['default'] });
    expect(view.policy.verifierPolicy).toBe('on');
    expect(view.verifier).toBeNull();
    expect(view.problems).toEqual([]);
  });

  it('managed values override local ones, and each value says where it came from', () => {
    const view = effectivePolicy(
      { verifierUrl: 'https://verifier.corp.example', killSwitch: true },
      { verifierUrl: 'http://127.0.0.1:8787', strictMode: true },
    );
    expect(view.policy).toMatchObject({ verifierUrl: 'https://verifier.corp.example', killSwitch: true, strictMode: true });
    expect(view.sources).toMatchObject({ verifierUrl: ['managed'], killSwitch: ['managed'], strictMode: ['local'], approvalTtlSeconds: ['default'] });
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
    expect(view.problems).toEqual([{ source: 'managed', field: 'adapters[1].posts.author', message: expect.any(String), adapterId: 'payroll', closes: view.failClosed }]);
    expect(view.failClosed.length).toBeGreaterThan(0);
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

  it('attack: a kill switch or strict mode written as "true", 1 or "false" (Firefox and the registry pass any type) is on, and said to be, never silently off', () => {
    for (const value of ['true', 'false', 1, 0, 'yes', null, {}, []]) {
      for (const layer of ['managed', 'local'] as const) {
        const view = layer === 'managed' ? effectivePolicy({ killSwitch: value, strictMode: value }, {}) : effectivePolicy({}, { killSwitch: value, strictMode: value });
        expect(view.policy).toMatchObject({ killSwitch: true, strictMode: true });
        expect(view.sources).toMatchObject({ killSwitch: [layer], strictMode: [layer] });
        expect(view.problems.map((p) => `${p.source} ${p.field}`).sort()).toEqual([`${layer} killSwitch`, `${layer} strictMode`]);
        for (const p of view.problems) expect(p.message).toMatch(/expected boolean.*treated as on until it is true or false \(fail closed\)/);
      }
    }
    // A managed switch that cannot be read is not turned off by a well-typed local one.
    expect(effectivePolicy({ killSwitch: 'on' }, { killSwitch: false }).policy.killSwitch).toBe(true);
  });

  it('attack: a protected (or blocked) site written as one pattern where the list belongs is not protected by guesswork: its site fails closed, and the problem says so', () => {
    const view = effectivePolicy({ protectedSites: 'https://forum.corp.example/t/*', blockedSites: 'https://*.ledger.corp.example/*' }, {});
    expect(view.policy.protectedSites).toEqual([]);
    expect(view.policy.blockedSites).toEqual([]);
    expect(view.failClosed.sort()).toEqual(['*://*.ledger.corp.example/*', '*://forum.corp.example/*']);
    const problem = view.problems.find((p) => p.field === 'protectedSites')!;
    expect(problem.message).toMatch(/expected array.*a list of match patterns.*fails closed on \*:\/\/forum\.corp\.example\/\*/);
    expect(problem.closes).toEqual(['*://forum.corp.example/*']);
    // A string that names no site closes nothing, and says so.
    const none = effectivePolicy({ protectedSites: 'everything' }, {});
    expect(none.failClosed).toEqual([]);
    expect(none.problems[0]!.message).toMatch(/names no site/);
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
    expect(view.problems).toEqual([{ source: 'managed', field: `${key}.1`, message: expect.stringContaining(JSON.stringify(pattern)), closes: site ? [site] : [] }]);
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
      { source: 'managed', field: 'adapters[1].match.1', adapterId: 'payroll', message: expect.stringMatching(/"http:\/\/payroll.corp.example:70000\/\*".*port 70000 is out of range/), closes: expect.arrayContaining(['*://payroll.corp.example/*', 'https://payroll.corp.example/*']) },
      { source: 'managed', field: 'adapters[1].match.2', adapterId: 'payroll', message: expect.stringMatching(/"http:\/\/ledger.corp.example:8080".*path/), closes: expect.arrayContaining(['*://ledger.corp.example/*']) },
    ]);
    expect(view.failClosed.sort()).toEqual(['*://ledger.corp.example/*', '*://payroll.corp.example/*', 'https://payroll.corp.example/*']);
  });

  it('a policy that is not an object is a problem, not a crash', () => {
    expect(effectivePolicy('nonsense', [1, 2]).problems).toHaveLength(2);
  });
});

describe('organisation policy from the verifier: it only adds protection', () => {
  const org = (policy: unknown, version = 3) => ({ version, updatedAt: 1_700_000_000_000, policy });
  const MANAGED = {
    verifierUrl: 'https://verifier.corp.example',
    protectedSites: ['https://payroll.corp.example/*'],
    blockedSites: ['https://hr.corp.example/*'],
    assistantAccounts: ['agent:managed-helper'],
    approvalTtlSeconds: 60,
    killSwitch: true,
    strictMode: true,
  };

  it('nothing held: the view says so, nothing is joined', () => {
    const view = effectivePolicy(MANAGED, {});
    expect(view.verifier).toBeNull();
    expect(view.sources.protectedSites).toEqual(['managed']);
  });

  it('joins protected and blocked sites and assistant accounts with managed ones, each source listed', () => {
    const view = effectivePolicy(MANAGED, {}, [], org({ protectedSites: ['https://wiki.corp.example/*', 'https://payroll.corp.example/*'], blockedSites: ['https://ledger.corp.example/*'], assistantAccounts: ['agent:org-helper'] }));
    expect(view.policy.protectedSites).toEqual(['https://payroll.corp.example/*', 'https://wiki.corp.example/*']);
    expect(view.policy.blockedSites).toEqual(['https://hr.corp.example/*', 'https://ledger.corp.example/*']);
    expect(view.policy.assistantAccounts).toEqual(['agent:managed-helper', 'agent:org-helper']);
    expect(view.sources).toMatchObject({ protectedSites: ['managed', 'verifier'], blockedSites: ['managed', 'verifier'], assistantAccounts: ['managed', 'verifier'] });
    expect(view.verifier).toEqual({ version: 3, updatedAt: 1_700_000_000_000 });
    expect(describeSources(view.sources.protectedSites, view.verifier?.version)).toBe('managed + verifier (version 3)');
    expect(view.problems).toEqual([]);
  });

  it('joins with local values too, and stands alone where nothing else set the key', () => {
    const view = effectivePolicy({}, { protectedSites: ['http://127.0.0.1:8080/*'] }, [], org({ protectedSites: ['http://127.0.0.1:8081/*'], blockedSites: ['https://hr.corp.example/*'] }, 7));
    expect(view.policy.protectedSites).toEqual(['http://127.0.0.1:8080/*', 'http://127.0.0.1:8081/*']);
    // Local, then the verifier's addition: the base value's source comes first.
    expect(view.sources.protectedSites).toEqual(['local', 'verifier']);
    expect(view.sources.blockedSites).toEqual(['verifier']);
    expect(describeSources(view.sources.blockedSites, view.verifier?.version)).toBe('verifier (version 7)');
  });

  it('cannot remove a managed protected site: an empty or different list only adds', () => {
    for (const protectedSites of [[], ['https://other.corp.example/*']]) {
      const view = effectivePolicy(MANAGED, {}, [], org({ protectedSites }));
      expect(view.policy.protectedSites).toContain('https://payroll.corp.example/*');
    }
  });

  it('the smallest approval TTL wins: the verifier can shorten a managed TTL, never lengthen it (nor the default)', () => {
    const longer = effectivePolicy(MANAGED, {}, [], org({ approvalTtlSeconds: 600 }));
    expect(longer.policy.approvalTtlSeconds).toBe(60);
    expect(longer.sources.approvalTtlSeconds).toEqual(['managed']);
    const shorter = effectivePolicy(MANAGED, {}, [], org({ approvalTtlSeconds: 30 }));
    expect(shorter.policy.approvalTtlSeconds).toBe(30);
    expect(shorter.sources.approvalTtlSeconds).toEqual(['verifier']);
    const same = effectivePolicy(MANAGED, {}, [], org({ approvalTtlSeconds: 60 }));
    expect(same.sources.approvalTtlSeconds).toEqual(['managed', 'verifier']);
    const overDefault = effectivePolicy({}, {}, [], org({ approvalTtlSeconds: 300 }));
    expect(overDefault.policy.approvalTtlSeconds).toBe(120);
    expect(overDefault.sources.approvalTtlSeconds).toEqual(['default']);
    // A local TTL longer than the organisation's is shortened to it.
    expect(effectivePolicy({}, { approvalTtlSeconds: 600 }, [], org({ approvalTtlSeconds: 90 })).policy.approvalTtlSeconds).toBe(90);
  });

  it('cannot turn off a managed kill switch or strict mode; can turn them on', () => {
    const off = effectivePolicy(MANAGED, {}, [], org({ killSwitch: false, strictMode: false }));
    expect(off.policy).toMatchObject({ killSwitch: true, strictMode: true });
    expect(off.sources).toMatchObject({ killSwitch: ['managed'], strictMode: ['managed'] });
    const on = effectivePolicy({ killSwitch: false }, { strictMode: false }, [], org({ killSwitch: true, strictMode: true }));
    expect(on.policy).toMatchObject({ killSwitch: true, strictMode: true });
    expect(on.sources).toMatchObject({ killSwitch: ['verifier'], strictMode: ['verifier'] });
    const both = effectivePolicy(MANAGED, {}, [], org({ killSwitch: true }));
    expect(both.sources.killSwitch).toEqual(['managed', 'verifier']);
  });

  it('cannot set verifierUrl, even when the document carries one: reported, ignored, the rest applies', () => {
    const none = effectivePolicy({}, {}, [], org({ verifierUrl: 'https://evil.example', protectedSites: ['https://wiki.corp.example/*'] }));
    expect(none.policy.verifierUrl).toBeNull();
    expect(none.sources.verifierUrl).toEqual(['default']);
    expect(none.policy.protectedSites).toEqual(['https://wiki.corp.example/*']);
    expect(none.problems).toEqual([{ source: 'verifier', field: 'verifierUrl', message: expect.stringMatching(/cannot set verifierUrl/) }]);
    const local = effectivePolicy({}, { verifierUrl: 'http://127.0.0.1:8787' }, [], org({ verifierUrl: 'https://evil.example' }));
    expect(local.policy.verifierUrl).toBe('http://127.0.0.1:8787');
    expect(local.sources.verifierUrl).toEqual(['local']);
    expect(effectivePolicy(MANAGED, {}, [], org({ verifierUrl: 'https://evil.example' })).policy.verifierUrl).toBe('https://verifier.corp.example');
  });

  it('cannot set verifierPolicy either, and a local verifierPolicy "off" is refused: only managed policy turns it off', () => {
    const fromOrg = effectivePolicy({}, {}, [], org({ verifierPolicy: 'off', protectedSites: ['https://wiki.corp.example/*'] }));
    expect(fromOrg.policy.verifierPolicy).toBe('on');
    expect(fromOrg.problems.map((p) => [p.source, p.field])).toEqual([['verifier', 'verifierPolicy']]);
    const fromLocal = effectivePolicy({}, { verifierPolicy: 'off' }, [], org({ protectedSites: ['https://wiki.corp.example/*'] }));
    expect(fromLocal.policy.verifierPolicy).toBe('on');
    expect(fromLocal.policy.protectedSites).toEqual(['https://wiki.corp.example/*']);
    expect(fromLocal.problems).toEqual([{ source: 'local', field: 'verifierPolicy', message: expect.stringMatching(/managed/) }]);
  });

  it('a managed verifierPolicy "off" ignores it: nothing joined, no problems from it, the view says none applies', () => {
    const view = effectivePolicy({ ...MANAGED, verifierPolicy: 'off' }, {}, [], org({ protectedSites: ['https://wiki.corp.example/*'], killSwitch: true, approvalTtlSeconds: 10, verifierUrl: 'x', adapters: [adapter('wiki')] }));
    expect(view.policy.protectedSites).toEqual(['https://payroll.corp.example/*']);
    expect(view.policy.approvalTtlSeconds).toBe(60);
    expect(view.policy.adapters).toEqual([]);
    expect(view.policy.verifierPolicy).toBe('off');
    expect(view.sources.verifierPolicy).toEqual(['managed']);
    expect(view.verifier).toBeNull();
    expect(view.problems).toEqual([]);
  });

  it('adapters: managed beats verifier beats local by id; verifier adapters count as the admin\'s over built-ins', () => {
    const view = effectivePolicy(
      { adapters: JSON.stringify([adapter('wiki', 'https://managed-wiki.corp.example/*')]) },
      { adapters: JSON.stringify([adapter('tickets', 'https://local-tickets.corp.example/*'), adapter('forum', 'https://local-forum.corp.example/*')]) },
      builtin,
      org({ adapters: [adapter('wiki', 'https://org-wiki.corp.example/*'), adapter('tickets', 'https://org-tickets.corp.example/*'), adapter('intraforum', 'http://127.0.0.1/*')] }),
    );
    const byId = Object.fromEntries(view.policy.adapters.map((a) => [a.id, a.match[0]]));
    expect(byId).toEqual({ wiki: 'https://managed-wiki.corp.example/*', tickets: 'https://org-tickets.corp.example/*', forum: 'https://local-forum.corp.example/*', intraforum: 'http://127.0.0.1/*' });
    expect(view.adapterSources).toEqual({ wiki: 'managed', tickets: 'verifier', intraforum: 'verifier', forum: 'local' });
    // Listed by rank: managed, verifier, local, built-in.
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['wiki', 'tickets', 'intraforum', 'forum']);
    expect(view.sources.adapters).toEqual(['managed', 'verifier', 'local']);
    expect(adapterFor(view, 'http://127.0.0.1/t/1')?.id).toBe('intraforum');
    expect(view.adapterSources.intraforum).not.toBe('built-in');
  });

  it('an adapter the extension cannot parse is reported by id (source verifier); its sites fail closed; the others apply', () => {
    const bad = { ...adapter('payroll'), posts: { container: 'article', author: 7, body: '.b', receipt: 'data-r' } };
    const view = effectivePolicy({}, {}, [], org({ adapters: [adapter('wiki'), bad], protectedSites: ['https://wiki.corp.example/*'] }));
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['wiki']);
    expect(view.problems).toEqual([{ source: 'verifier', field: 'adapters[1].posts.author', message: expect.any(String), adapterId: 'payroll', closes: expect.any(Array) }]);
    expect(view.failClosed).toEqual(['https://payroll.corp.example/*']);
    expect(view.policy.protectedSites).toEqual(['https://wiki.corp.example/*']);
  });

  it('an unparsable pattern from the verifier (a site list or an adapter\'s match) names the pattern; its site fails closed', () => {
    const bad = { ...adapter('ledger'), match: ['http://ledger.corp.example:70000/*'] };
    const view = effectivePolicy({}, {}, [], org({ protectedSites: ['https://ok.corp.example/*', 'http://wiki.corp:99999/*'], adapters: [bad] }));
    expect(view.policy.protectedSites).toEqual(['https://ok.corp.example/*']);
    expect(view.problems).toEqual([
      { source: 'verifier', field: 'protectedSites.1', message: expect.stringMatching(/"http:\/\/wiki.corp:99999\/\*".*port 99999.*fails closed on \*:\/\/wiki.corp\/\*/), closes: ['*://wiki.corp/*'] },
      { source: 'verifier', field: 'adapters[0].match.0', adapterId: 'ledger', message: expect.stringMatching(/port 70000/), closes: ['*://ledger.corp.example/*'] },
    ]);
    expect(view.failClosed.sort()).toEqual(['*://ledger.corp.example/*', '*://wiki.corp/*']);
  });

  it('a bad key is a problem and the other keys still apply; a document that is not an object is one problem', () => {
    const view = effectivePolicy(MANAGED, {}, [], org({ approvalTtlSeconds: 5, killSwitch: 'yes', adapters: 'not-an-array', surprise: 1, strictMode: true, blockedSites: ['https://ledger.corp.example/*'] }));
    expect(view.problems.map((p) => `${p.source} ${p.field}`).sort()).toEqual(['verifier adapters', 'verifier approvalTtlSeconds', 'verifier killSwitch', 'verifier surprise']);
    expect(view.policy.approvalTtlSeconds).toBe(60);
    // A switch it cannot read turns on (fail closed), as a managed one would.
    expect(view.policy.killSwitch).toBe(true);
    expect(view.policy.blockedSites).toContain('https://ledger.corp.example/*');
    expect(effectivePolicy({}, {}, [], org(['nonsense'])).problems).toEqual([{ source: 'verifier', field: '(policy)', message: 'policy is not an object' }]);
  });

  it('property: whatever the organisation document says, managed protection stays (sites, blocked sites, accounts, TTL, switches, verifierUrl)', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            protectedSites: fc.array(fc.constantFrom('https://a.corp/*', 'https://payroll.corp.example/*', 'bad pattern', 7)),
            blockedSites: fc.array(fc.constantFrom('https://b.corp/*', 'nope')),
            assistantAccounts: fc.array(fc.constantFrom('agent:x', 'bad id with spaces')),
            approvalTtlSeconds: fc.oneof(fc.integer({ min: -5, max: 1000 }), fc.constant('60')),
            killSwitch: fc.oneof(fc.boolean(), fc.constant(null)),
            strictMode: fc.oneof(fc.boolean(), fc.constant(0)),
            verifierUrl: fc.constantFrom('https://evil.example', 'http://127.0.0.1:1'),
            verifierPolicy: fc.constantFrom('on', 'off'),
            adapters: fc.constantFrom([], [adapter('wiki')], 'x', [{ id: 'Bad!' }]),
          },
          { requiredKeys: [] },
        ),
        (doc) => {
          const view = effectivePolicy(MANAGED, {}, [], org(doc));
          expect(view.policy.protectedSites).toContain('https://payroll.corp.example/*');
          expect(view.policy.blockedSites).toContain('https://hr.corp.example/*');
          expect(view.policy.assistantAccounts).toContain('agent:managed-helper');
          expect(view.policy.approvalTtlSeconds).toBeLessThanOrEqual(60);
          expect(view.policy).toMatchObject({ killSwitch: true, strictMode: true, verifierUrl: 'https://verifier.corp.example', verifierPolicy: 'on' });
        },
      ),
    );
  });
});
