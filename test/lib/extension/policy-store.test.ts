// Policy from browser storage: managed (admin) over local, re-read when either changes.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { BUILTIN_ADAPTERS } from '@/lib/adapters/builtin';
import { LOCAL_POLICY_KEY, readPolicyView, saveLocalPolicy, watchPolicy } from '@/lib/extension/policy-store';

beforeEach(() => fakeBrowser.reset());

describe('policy store', () => {
  it('reads managed over local storage, with the built-in adapters', async () => {
    await fakeBrowser.storage.managed.set({ verifierUrl: 'https://verifier.corp.example', adapters: '[{"id":"broken"}]' });
    await saveLocalPolicy({ verifierUrl: 'http://127.0.0.1:8787', strictMode: true });
    const view = await readPolicyView(BUILTIN_ADAPTERS);
    expect(view.policy.verifierUrl).toBe('https://verifier.corp.example');
    expect(view.policy.strictMode).toBe(true);
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['intraforum', 'access-console']);
    expect(view.problems).toEqual([expect.objectContaining({ source: 'managed', adapterId: 'broken' })]);
  });

  it('notices a new admin policy and local changes', async () => {
    const onChange = vi.fn();
    const stop = watchPolicy(onChange);
    await fakeBrowser.storage.managed.set({ killSwitch: true });
    await fakeBrowser.storage.local.set({ [LOCAL_POLICY_KEY]: { strictMode: true } });
    expect(onChange).toHaveBeenCalledTimes(2);
    stop();
    await fakeBrowser.storage.local.set({ other: 1 });
    expect(onChange).toHaveBeenCalledTimes(2);
  });
});
