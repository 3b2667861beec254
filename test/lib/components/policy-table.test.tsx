// What the options page shows about the policy: each effective value's sources, `verifier (version N)`
// among them, each adapter's source, problems named by their source, and when the organisation policy
// was fetched or why the last fetch failed. The strings the browser tests and the README rely on.
// Rendered to static markup. Node only (tests).
import { parseHTML } from 'linkedom';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { OrganisationPolicyStatus } from '@/components/OrganisationPolicyStatus';
import { PolicyTable } from '@/components/PolicyTable';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import type { OrganisationPolicyView } from '@/lib/messaging/contract';

const render = (el: React.ReactElement) => parseHTML(`<html><body>${renderToStaticMarkup(el)}</body></html>`).document;
const forum = { id: 'intraforum', match: ['http://127.0.0.1:8080/*'], actions: [] };

function rows(doc: Document): Record<string, [string, string]> {
  return Object.fromEntries([...doc.querySelectorAll('tbody tr')].map((tr) => [tr.querySelector('th')!.textContent, [...tr.querySelectorAll('td')].map((td) => td.textContent) as [string, string]]));
}

describe('PolicyTable', () => {
  it('lists each value\'s sources: managed, verifier (version N), joined values with both', () => {
    const view = effectivePolicy(
      { protectedSites: ['https://payroll.corp.example/*'], approvalTtlSeconds: 60 },
      {},
      [],
      { version: 3, updatedAt: 1, policy: { protectedSites: ['http://127.0.0.1:8080/*'], killSwitch: false, adapters: [forum], approvalTtlSeconds: 30 } },
    );
    const table = rows(render(<PolicyTable view={view} />));
    expect(table.protectedSites).toEqual(['https://payroll.corp.example/*, http://127.0.0.1:8080/*', 'managed + verifier (version 3)']);
    expect(table.approvalTtlSeconds).toEqual(['30', 'verifier (version 3)']);
    expect(table.killSwitch).toEqual(['false', 'verifier (version 3)']);
    expect(table.adapters).toEqual(['intraforum (verifier (version 3): http://127.0.0.1:8080/*)', 'verifier (version 3)']);
    expect(table.verifierUrl).toEqual(['(not set)', 'default']);
    expect(table.verifierPolicy).toEqual(['on', 'default']);
  });

  it('names a verifier problem\'s source and version, with the adapter\'s id', () => {
    const view = effectivePolicy({}, {}, [], { version: 4, updatedAt: 1, policy: { adapters: [{ id: 'payroll', match: ['https://payroll.corp.example/*'], actions: 'none' }] } });
    const text = render(<PolicyTable view={view} />).querySelector('[role="alert"]')!.textContent!;
    expect(text).toMatch(/verifier \(version 4\) adapters\[0\]\.actions \(adapter payroll\): /);
    expect(text).toContain('https://payroll.corp.example/*');
  });
});

describe('PolicyTable problems', () => {
  it('each problem says where it came from, which adapter, field and pattern, why, and where it fails closed', () => {
    const view = effectivePolicy({ protectedSites: ['http://wiki.corp:99999/*'], adapters: JSON.stringify([forum, { id: 'payroll', match: ['https://payroll.corp.example/*'], actions: [{ scope: 'x', request: { method: 'post', url: '/r' } }] }]) }, {});
    const items = [...render(<PolicyTable view={view} />).querySelectorAll('[data-testid="policy-problem"]')].map((li) => [li.getAttribute('data-source'), li.textContent]);
    expect(items).toEqual([
      ['managed', expect.stringMatching(/^managed protectedSites\.0: "http:\/\/wiki\.corp:99999\/\*" is not a match pattern Countersign can use: port 99999 is out of range; Countersign fails closed on \*:\/\/wiki\.corp\/\* \(held, never released\)$/)],
      ['managed', expect.stringMatching(/^managed adapters\[1\]\.actions\.0\.request\.method \(adapter payroll\): .*; Countersign fails closed on https:\/\/payroll\.corp\.example\/\* \(held, never released\)$/)],
    ]);
  });

  it('a malformed adapters string says that none of its layer\'s adapters applies', () => {
    const text = render(<PolicyTable view={effectivePolicy({ adapters: '[{' }, {})} />).querySelector('[data-testid="policy-problem"]')!.textContent;
    expect(text).toMatch(/^managed adapters: adapters is .*: no adapter from managed policy applies; it names no site/);
  });
});

describe('OrganisationPolicyStatus', () => {
  const org: OrganisationPolicyView = { enabled: true, version: 3, verifierUrl: 'http://127.0.0.1:8787', updatedAt: Date.UTC(2026, 0, 2), fetchedAt: Date.UTC(2026, 0, 3), checkedAt: Date.UTC(2026, 0, 4), error: null };
  const show = (o: OrganisationPolicyView, enrolled = true) => {
    const doc = render(<OrganisationPolicyStatus org={o} enrolled={enrolled} />);
    return { status: doc.querySelector('[data-testid="organisation-policy"]')!.textContent, error: doc.querySelector('[data-testid="organisation-policy-error"]')?.textContent ?? null };
  };

  it('the version applied, where from, when set, fetched and last checked', () => {
    expect(show(org)).toEqual({ status: 'version 3 from http://127.0.0.1:8787, set 2026-01-02T00:00:00.000Z; fetched 2026-01-03T00:00:00.000Z; last checked 2026-01-04T00:00:00.000Z.', error: null });
  });

  it('the last error, and that the held version still applies', () => {
    expect(show({ ...org, error: 'the verifier at http://127.0.0.1:8787 did not answer' }).error).toBe('Last fetch failed: the verifier at http://127.0.0.1:8787 did not answer (version 3 still applies).');
  });

  it('off under managed policy; before enrollment; none held yet', () => {
    expect(show({ ...org, enabled: false }).status).toMatch(/^off: .*verifierPolicy to "off"/);
    const none = { ...org, version: null, verifierUrl: null, updatedAt: null, fetchedAt: null, checkedAt: null };
    expect(show(none, false).status).toBe('fetched from the verifier once this browser is enrolled.');
    expect(show(none).status).toMatch(/^none held yet/);
  });
});
