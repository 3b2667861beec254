// Policy from browser storage: managed (admin) over local, re-read when either changes; the held copy
// of the organisation policy (the extension's database) joined in unless managed policy turns it off.
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { ORGANISATION_POLICY_KEY } from '@/lib/extension/organisation-policy';
import { LOCAL_POLICY_KEY, readPolicyView, saveLocalPolicy, watchPolicy } from '@/lib/extension/policy-store';

beforeEach(() => {
  fakeBrowser.reset();
  useDatabase(new CountersignDb(`cs-policy-store-${crypto.randomUUID()}`));
});

async function holdOrganisationPolicy(version: number, policy: Record<string, unknown>) {
  const copy = { verifierUrl: 'http://127.0.0.1:8787', version, policy, updatedAt: 1, fetchedAt: 2 };
  await db().settings.put({ key: ORGANISATION_POLICY_KEY, value: { format: 1, copy, checkedAt: 2, attemptedAt: 2, error: null } });
}

describe('policy store', () => {
  it('a fresh install has no adapters and protects nothing: the extension ships none', async () => {
    const view = await readPolicyView();
    expect(view.policy.adapters).toEqual([]);
    expect(view.policy.protectedSites).toEqual([]);
    expect(view.sources.adapters).toEqual(['default']);
    expect(view.verifier).toBeNull();
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

  it('joins the held organisation policy, with no managed file at all (the demo\'s first run)', async () => {
    const forum = { id: 'intraforum', match: ['http://127.0.0.1:8080/*'], actions: [] };
    await holdOrganisationPolicy(2, { protectedSites: ['http://127.0.0.1:8080/*'], adapters: [forum] });
    const view = await readPolicyView();
    expect(view.verifier).toEqual({ version: 2, updatedAt: 1 });
    expect(view.policy.protectedSites).toEqual(['http://127.0.0.1:8080/*']);
    expect(view.adapterSources).toEqual({ intraforum: 'verifier' });
    expect(view.sources).toMatchObject({ protectedSites: ['verifier'], adapters: ['verifier'] });
  });

  it('a managed verifierPolicy "off" leaves the held copy out', async () => {
    await holdOrganisationPolicy(2, { protectedSites: ['http://127.0.0.1:8080/*'] });
    await fakeBrowser.storage.managed.set({ verifierPolicy: 'off' });
    const view = await readPolicyView();
    expect(view.verifier).toBeNull();
    expect(view.policy.protectedSites).toEqual([]);
    expect(view.policy.verifierPolicy).toBe('off');
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
