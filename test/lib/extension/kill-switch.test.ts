// The kill switch as the extension sees it: the managed flag and the verifier's status; an
// unreachable verifier never lifts a known kill.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CountersignDb, useDatabase } from '@/lib/extension/db';
import { describeSources, effectivePolicy } from '@/lib/extension/effective-policy';
import { killState, refreshVerifierStatus } from '@/lib/extension/kill-switch';
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
    expect(later).toMatchObject({ reachable: false, engaged: true, error: expect.stringContaining('did not answer') });
    expect(killState(policy(), later).engaged).toBe(true);
  });

  it('a kill switch from the organisation policy says where it came from', async () => {
    const status = await refreshVerifierStatus('http://verifier.test', injectFetch(() => v.app, faults));
    const view = effectivePolicy({}, {}, [], { version: 5, updatedAt: null, policy: { killSwitch: true } });
    const kill = killState(view.policy, status, describeSources(view.sources.killSwitch, view.verifier?.version));
    expect(kill).toMatchObject({ engaged: true, reasons: ['Your administrator turned on the kill switch (policy: verifier (version 5)).'] });
  });

  it('no verifier URL is reported as such, and the verifier as unreachable', async () => {
    expect(await refreshVerifierStatus(null)).toMatchObject({ reachable: false, error: 'no verifier URL configured' });
  });
});
