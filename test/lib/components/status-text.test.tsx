// What the options page and popup say about the verifier and about a disabled Approve: the verifier
// actually used and where it came from (managed policy or enrollment, never the organisation policy),
// "not reachable" only after a request that failed, with the URL, the error and when, and a reason
// (with a way to the options page) beside every disabled Approve. Rendered to static markup. Node only (tests).
import { parseHTML } from 'linkedom';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { approveBlock } from '@/components/approve-block';
import { PendingAction } from '@/components/PendingAction';
import { PolicyTable } from '@/components/PolicyTable';
import { VerifierStatus } from '@/components/VerifierStatus';
import type { PendingActionRow } from '@/lib/extension/db';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import type { ExtensionStateView } from '@/lib/messaging/contract';
import { verifierInUse } from '@/lib/policy/verifier-in-use';
import type { VerifierStatusView } from '@/lib/policy/verifier-in-use';

const render = (el: React.ReactElement) => parseHTML(`<html><body>${renderToStaticMarkup(el)}</body></html>`).document;
const VERIFIER = 'http://127.0.0.1:8787';
const enrolled = { verifierUrl: VERIFIER };
const text = (doc: Document, id: string) => doc.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;

describe('the verifier in use', () => {
  it('with no admin policy for it, the one this browser enrolled with, from enrollment (not "(not set)")', () => {
    const view = effectivePolicy({}, {});
    const doc = render(<PolicyTable view={view} enrollment={enrolled} />);
    const row = [...doc.querySelectorAll('tbody tr')].find((tr) => tr.querySelector('th')!.textContent === 'verifierUrl')!;
    expect([...row.querySelectorAll('td')].map((td) => td.textContent)).toEqual([VERIFIER, 'enrollment']);
    expect(text(render(<VerifierStatus inUse={verifierInUse(view, enrolled)} status={unchecked} />), 'verifier-in-use')).toBe(`${VERIFIER} (from enrollment)`);
  });

  it('the managed one wins over the enrolled one, and says managed policy', () => {
    const view = effectivePolicy({ verifierUrl: 'https://verifier.corp.example' }, {});
    expect(verifierInUse(view, enrolled)).toEqual({ url: 'https://verifier.corp.example', source: 'managed' });
    expect(text(render(<PolicyTable view={view} enrollment={enrolled} />), 'policy-source-verifierUrl')).toBe('managed');
    expect(text(render(<VerifierStatus inUse={verifierInUse(view, enrolled)} status={unchecked} />), 'verifier-in-use')).toBe('https://verifier.corp.example (from managed policy)');
  });

  it('the organisation policy cannot set it: still the enrolled one', () => {
    const view = effectivePolicy({}, {}, [], { version: 2, updatedAt: 1, policy: { verifierUrl: 'https://evil.example' } });
    expect(verifierInUse(view, enrolled)).toEqual({ url: VERIFIER, source: 'enrollment' });
  });

  it('none before enrollment without a managed one: says how to get one', () => {
    const view = effectivePolicy({}, {});
    expect(text(render(<PolicyTable view={view} />), 'policy-source-verifierUrl')).toBe('default');
    expect(text(render(<VerifierStatus inUse={verifierInUse(view, null)} status={unchecked} />), 'verifier-in-use')).toBe('none yet: enroll this browser with a verifier URL and a code');
  });
});

const unchecked: VerifierStatusView = { url: null, reachable: false, policyVersion: null, checkedAt: null, error: null };
const statusText = (status: VerifierStatusView) => text(render(<VerifierStatus inUse={{ url: VERIFIER, source: 'enrollment' }} status={status} />), 'verifier-status');

describe('the verifier status', () => {
  it('before any request: not checked yet (never "not reachable")', () => {
    expect(statusText(unchecked)).toBe('not checked yet');
  });

  it('checked with no verifier to ask: says so, not "not reachable"', () => {
    expect(statusText({ ...unchecked, checkedAt: 1, error: 'no verifier URL configured' })).toBe('not checked: there is no verifier to ask until this browser is enrolled');
  });

  it('reachable: the URL and its policy version', () => {
    expect(statusText({ url: VERIFIER, reachable: true, policyVersion: 'v1', checkedAt: 1, error: null })).toBe(`reachable: ${VERIFIER}, policy v1`);
  });

  it('after a failed request: the URL, the error and when', () => {
    expect(statusText({ url: VERIFIER, reachable: false, policyVersion: 'v1', checkedAt: Date.UTC(2026, 0, 2), error: 'did not answer (Failed to fetch)' })).toBe(
      `not reachable: ${VERIFIER}: did not answer (Failed to fetch) (checked 2026-01-02T00:00:00.000Z)`,
    );
  });
});

describe('a disabled Approve names its reason', () => {
  const action: PendingActionRow = {
    id: 'a1',
    state: 'held',
    spec: { trc: 't', tool: 'intraforum', scope: 'forum.post', agent: 'agent:forum-helper', request: { method: 'POST', url: 'http://127.0.0.1:8080/t/1/reply', contentType: 'text/plain', body: 'hi' }, content: 'hi', diff: null, signals: [] },
    digest: 'd',
    site: 'http://127.0.0.1:8080',
    tabId: 1,
    createdAt: Date.now(),
    expiresAt: Date.now() + 60_000,
    token: null,
    reason: null,
    updatedAt: Date.now(),
  };
  const state = (over: Partial<ExtensionStateView>) => ({ enrollment: { ...enrolled, userId: 'alice', deviceId: 'd', kid: 'k', label: 'l', enrolledAt: 1 }, kill: { engaged: false, reasons: [], verifier: { engaged: false, checkedAt: 1, error: null } }, ...over }) as ExtensionStateView;
  const item = (blocked: ReturnType<typeof approveBlock>, over: Partial<PendingActionRow> = {}) => {
    const doc = render(<PendingAction action={{ ...action, ...over }} owner="alice" blocked={blocked} />);
    const approve = [...doc.querySelectorAll('button')].find((b) => b.textContent === 'Approve')!;
    const off = doc.querySelector('[data-testid="approve-off"]');
    return { disabled: approve.hasAttribute('disabled'), describedBy: approve.getAttribute('aria-describedby'), offId: off?.getAttribute('id') ?? null, reason: off?.textContent ?? null, buttons: [...(off?.querySelectorAll('button') ?? [])].map((b) => b.textContent) };
  };

  it('not enrolled: says so, with a button to the options page', () => {
    const blocked = approveBlock(state({ enrollment: null }), null);
    expect(blocked).toBe('not-enrolled');
    const shown = item(blocked);
    expect(shown).toMatchObject({ disabled: true, reason: 'This browser is not enrolled: enroll it in the options page. Open the options page', buttons: ['Open the options page'] });
    expect(shown.describedBy).toBe(shown.offId);
  });

  it('a kill switch on: says so', () => {
    const blocked = approveBlock(state({ kill: { engaged: true, reasons: ['x'], verifier: { engaged: true, checkedAt: 1, error: null } } }), null);
    expect(item(blocked)).toMatchObject({ disabled: true, reason: 'A kill switch is on (see above): nothing can be approved until it is off.', buttons: [] });
  });

  it('while the state loads, or when it cannot be read: says so', () => {
    expect(item(approveBlock(null, null))).toMatchObject({ disabled: true, reason: 'Checking this browser\'s enrollment and the kill switch…' });
    expect(item(approveBlock(null, 'boom'))).toMatchObject({ disabled: true, reason: expect.stringContaining('could not read this browser\'s state') });
  });

  it('its time ran out: says so, whatever else holds', () => {
    expect(item(approveBlock(state({ enrollment: null }), null), { expiresAt: Date.now() - 1 })).toMatchObject({ disabled: true, reason: 'Its time ran out: it can no longer be approved.' });
  });

  it('enrolled, no kill switch, time left: Approve is on, and no reason is shown', () => {
    expect(item(approveBlock(state({}), null))).toEqual({ disabled: false, describedBy: null, offId: null, reason: null, buttons: [] });
  });
});
