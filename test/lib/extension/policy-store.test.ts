// Policy from browser storage: managed (admin) over local, re-read when either changes.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { LOCAL_POLICY_KEY, readPolicyView, saveLocalPolicy, watchPolicy } from '@/lib/extension/policy-store';

beforeEach(() => fakeBrowser.reset());

describe('policy store', () => {
  it('a fresh install has no adapters and protects nothing: the extension ships none', async () => {
    const view = await readPolicyView();
    expect(view.policy.adapters).toEqual([]);
    expect(view.policy.protectedSites).toEqual([]);
    expect(view.sources.adapters).toBe('default');
  });

  it('reads managed over local storage, adapters from policy only', async () => {
    const wiki = { id: 'wiki', match: ['http://wiki.corp:8090/*'], actions: [] };
    await fakeBrowser.storage.managed.set({ verifierUrl: 'https://verifier.corp.example', adapters: JSON.stringify([{ id: 'broken' }, wiki]) });
    await saveLocalPolicy({ verifierUrl: 'http://127.0.0.1:8787', strictMode: true });
    const view = await readPolicyView();
    expect(view.policy.verifierUrl).toBe('https://verifier.corp.example');
    expect(view.policy.strictMode).toBe(true);
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['wiki']);
    expect(view.adapterSources).toEqual({ wiki: 'managed' });
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
