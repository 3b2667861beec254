// The kill switch as the extension sees it: the managed flag and the verifier's status; an
// unreachable verifier never lifts a known kill.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CountersignDb, useDatabase } from '@/lib/extension/db';
import { describeSources, effectivePolicy } from '@/lib/policy/effective-policy';
import { db } from '@/lib/extension/db';
import { killState, refreshVerifierStatus, verifierStatus } from '@/lib/extension/kill-switch';
import { injectFetch } from '../../helpers/inject-fetch';
import type { FetchFaults } from '../../helpers/inject-fetch';
import { startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

let v: TestVerifier;
const faults: FetchFaults = {};
beforeEach(async () => {
  v = await startVerifier('sqlite');
  useDatabase(new CountersignDb(`cs-kill-${crypto.randomUUID()}`));
  faults.down = false;
});
afterEach(() => v.close());

const policy = (managed: Record<string, unknown> = {}) => effectivePolicy(managed, {}).policy;

describe('kill switch', () => {
  it('is off when neither the admin policy nor the verifier engages it', async () => {
    const status = await refreshVerifierStatus('http://verifier.test', injectFetch(() => v.app, faults));
    expect(status).toMatchObject({ reachable: true, engaged: false });
    expect(killState(policy(), status)).toMatchObject({ engaged: false, reasons: [] });
  });

  it('the managed killSwitch engages it, and says so', async () => {
    const status = await refreshVerifierStatus('http://verifier.test', injectFetch(() => v.app, faults));
    const kill = killState(policy({ killSwitch: true }), status);
    expect(kill.engaged).toBe(true);
    expect(kill.reasons[0]).toContain('administrator');
  });

  it('the verifier\'s kill switch engages it; the verifier going away afterwards does not lift it', async () => {
    await v.admin('POST', '/v1/admin/kill', { scope: 'agent', target: 'agent:forum-helper' });
    const status = await refreshVerifierStatus('http://verifier.test', injectFetch(() => v.app, faults));
    expect(killState(policy(), status).reasons[0]).toContain('agent agent:forum-helper');
    faults.down = true;
    const later = await refreshVerifierStatus('http://verifier.test', injectFetch(() => v.app, faults));
    expect(later).toMatchObject({ url: 'http://verifier.test', reachable: false, engaged: true, error: 'did not answer (fetch failed)' });
    expect(killState(policy(), later).engaged).toBe(true);
  });

  it('a kill switch from the organisation policy says where it came from', async () => {
    const status = await refreshVerifierStatus('http://verifier.test', injectFetch(() => v.app, faults));
    const view = effectivePolicy({}, {}, [], { version: 5, updatedAt: null, policy: { killSwitch: true } });
    const kill = killState(view.policy, status, describeSources(view.sources.killSwitch, view.verifier?.version));
    expect(kill).toMatchObject({ engaged: true, reasons: ['Your administrator turned on the kill switch (policy: verifier (version 5)).'] });
  });

  it('no verifier URL is reported as such, and the verifier as unreachable', async () => {
    expect(await refreshVerifierStatus(null)).toMatchObject({ url: null, reachable: false, error: 'no verifier URL configured' });
  });

  it('before any request: no URL, no error, not checked', async () => {
    expect(await verifierStatus()).toEqual({ url: null, reachable: false, engaged: false, entries: [], policyVersion: null, checkedAt: null, error: null });
  });

  it('a reachable verifier is stored with the URL asked and its policy version', async () => {
    const status = await refreshVerifierStatus('http://verifier.test', injectFetch(() => v.app, faults), 7);
    expect(status).toMatchObject({ url: 'http://verifier.test', reachable: true, checkedAt: 7, error: null, policyVersion: expect.any(String) });
    expect(await verifierStatus()).toEqual(status);
  });

  it.each([
    ['an HTTP error', async () => new Response('{}', { status: 503 }), 'answered HTTP 503 to GET /v1/status'],
    ['an answer that is not a status', async () => new Response('{"hello":1}'), 'answered GET /v1/status with something that is not a verifier status'],
    ['a timeout', async () => Promise.reject(new DOMException('signal timed out', 'TimeoutError')), 'did not answer within 5 s'],
    ['a network error', async () => Promise.reject(new TypeError('Failed to fetch')), 'did not answer (Failed to fetch)'],
  ])('a failed request says what failed: %s', async (_name, fetchFn, error) => {
    expect(await refreshVerifierStatus('http://verifier.test', fetchFn as typeof fetch, 9)).toMatchObject({ url: 'http://verifier.test', reachable: false, checkedAt: 9, error });
  });

  it('a status stored before the URL was kept reads with url null', async () => {
    await db().settings.put({ key: 'verifier-status', value: { reachable: true, engaged: false, entries: [], policyVersion: 'v1', checkedAt: 3, error: null } });
    expect(await verifierStatus()).toMatchObject({ url: null, reachable: true, policyVersion: 'v1', checkedAt: 3 });
  });
});
