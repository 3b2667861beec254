// Policy merge: managed over local over defaults with sources; the adapters string validated one
// adapter at a time; invalid policy reported and its sites closed.
import { describe, expect, it } from 'vitest';
import { effectivePolicy } from '@/lib/extension/effective-policy';
import type { SiteAdapter } from '@/lib/protocol';

const builtin: SiteAdapter[] = [{ id: 'intraforum', match: ['http://127.0.0.1/*'], actions: [] }];
const adapter = (id: string, match = `https://${id}.corp.example/*`) => ({ id, match: [match], actions: [{ scope: 'x.write', request: { method: 'POST', url: '/api/*' } }] });

describe('effective policy', () => {
  it('defaults when nothing is set; built-in adapters apply', () => {
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
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['intraforum', 'wiki', 'tickets']);
    expect(view.problems).toEqual([{ source: 'managed', field: 'adapters[1].posts.author', message: expect.any(String), adapterId: 'payroll' }]);
    expect(view.failClosed).toEqual(['https://payroll.corp.example/*']);
  });

  it('a managed adapter replaces the built-in one of the same id', () => {
    const view = effectivePolicy({ adapters: JSON.stringify([adapter('intraforum', 'https://forum.corp.example/*')]) }, {}, builtin);
    expect(view.policy.adapters).toHaveLength(1);
    expect(view.policy.adapters[0]!.match).toEqual(['https://forum.corp.example/*']);
  });

  it('an invalid key is a problem and falls back, without dropping the valid keys; named sites fail closed', () => {
    const view = effectivePolicy({ approvalTtlSeconds: 9999, protectedSites: ['https://ok.corp.example/*', 'not a pattern'], strictMode: true, surprise: 1 }, {});
    expect(view.policy.approvalTtlSeconds).toBe(120);
    expect(view.policy.strictMode).toBe(true);
    expect(view.problems.map((p) => p.field).sort()).toEqual(['approvalTtlSeconds', 'protectedSites.1', 'surprise']);
    expect(view.failClosed).toEqual(['https://ok.corp.example/*']);
  });

  it('a policy that is not an object is a problem, not a crash', () => {
    expect(effectivePolicy('nonsense', [1, 2]).problems).toHaveLength(2);
  });
});
