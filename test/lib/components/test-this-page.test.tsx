// What "test this page" shows on the options page: the verdict, the adapter and the layer it came from,
// its actions (scope, request, whose), a fail-closed site with its problem, and the message for input
// that is no page URL. Rendered to static markup from real effective policies. Node only (tests).
import { parseHTML } from 'linkedom';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { consoleAdapter, demoSitePolicy, forumAdapter } from '../../../demo/adapters';
import { PageCheckAnswer, TestThisPage } from '@/components/TestThisPage';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import { checkPage } from '@/lib/policy/page-check';
import type { PolicyView } from '@/lib/policy/effective-policy';

const FORUM = 'http://127.0.0.1:8080';
const CONSOLE = 'http://localhost:8081';
const render = (el: React.ReactElement) => parseHTML(`<html><body>${renderToStaticMarkup(el)}</body></html>`).document;
const bad = { id: 'payroll', match: ['https://payroll.corp.example/*'], actions: [{ scope: 'payroll.write', request: { method: 'post', url: '/api/runs' } }] };
const view = effectivePolicy({ ...demoSitePolicy({ forum: FORUM, console: CONSOLE }), adapters: JSON.stringify([forumAdapter(FORUM), consoleAdapter(CONSOLE), bad]) }, {});
const answer = (url: string, v: PolicyView = view) => render(<PageCheckAnswer result={checkPage(v, url)} verifierVersion={v.verifier?.version ?? null} />);

describe('PageCheckAnswer', () => {
  it('a forum URL: protected by intraforum, from managed policy, with its action\'s scope, request and whose', () => {
    const doc = answer(`${FORUM}/t/1`);
    expect(doc.querySelector('[data-testid="page-check-verdict"]')!.textContent).toBe('Protected by intraforum');
    expect(doc.querySelector('[data-testid="page-check-adapter"]')!.textContent).toBe('Adapter intraforum, from managed policy');
    const row = [...doc.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent));
    expect(row).toEqual([['forum.post', 'POST /api/topics/*/replies', 'when an assistant sends it']]);
  });

  it('the console\'s action is held always, a person\'s request too', () => {
    expect(answer(`${CONSOLE}/datasets/payroll-2026`).querySelector('tbody td:last-child')!.textContent).toBe('always (a person\'s request too)');
  });

  it('attack: a bad adapter\'s site — fails closed, and the answer names the adapter, its field and why', () => {
    const doc = answer('https://payroll.corp.example/runs');
    expect(doc.querySelector('[data-testid="page-check-verdict"]')!.textContent).toBe('Fails closed: held, never released, until the policy is fixed');
    expect(doc.querySelector('[data-testid="page-check-adapter"]')).toBeNull();
    expect(doc.querySelector('li')!.textContent).toMatch(/^Fails closed under https:\/\/payroll\.corp\.example\/\*.*\(adapter payroll\)/);
  });

  it('an adapter from the verifier names the organisation policy and its version', () => {
    const org = effectivePolicy({ protectedSites: [`${FORUM}/*`] }, {}, [], { version: 7, updatedAt: 1, policy: { adapters: [forumAdapter(FORUM)] } });
    expect(answer(`${FORUM}/t/1`, org).querySelector('[data-testid="page-check-adapter"]')!.textContent).toBe('Adapter intraforum, from the verifier\'s organisation policy (version 7)');
  });

  it('a page no policy names: not protected', () => {
    expect(answer('https://elsewhere.example/').querySelector('[data-testid="page-check-verdict"]')!.textContent).toBe('Not protected');
  });

  it('input that is no URL: an alert saying what to enter', () => {
    const alert = answer('forum.corp.example').querySelector('[role="alert"]')!;
    expect(alert.getAttribute('aria-label')).toBe('Page check');
    expect(alert.textContent).toMatch(/is not an absolute URL: enter one with its scheme/);
  });
});

describe('TestThisPage', () => {
  it('starts with an empty "Test a URL" field and no answer', () => {
    const doc = render(<TestThisPage view={view} />);
    const input = doc.querySelector('input')!;
    expect(input.getAttribute('value')).toBe('');
    expect(doc.querySelector('label')!.textContent).toMatch(/^Test a URL/);
    expect(doc.querySelector('[aria-label="Page check"]')).toBeNull();
  });
});
