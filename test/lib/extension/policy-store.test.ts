// Policy from browser storage: managed (admin) over local, re-read when either changes; the held copy
// of the organisation policy (the extension's database) joined in unless managed policy turns it off;
// while watched, read once and kept until a store changes, with what Chrome refused to register added.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { ORGANISATION_POLICY_KEY } from '@/lib/extension/organisation-policy';
import { LOCAL_POLICY_KEY, currentPolicyView, invalidatePolicyView, readPolicyView, saveLocalPolicy, storedPolicyView, watchPolicy } from '@/lib/extension/policy-store';
import { syncContentScripts } from '@/lib/extension/content-scripts';

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

describe('the policy every feature reads (currentPolicyView)', () => {
  const managedReads = () => vi.spyOn(fakeBrowser.storage.managed, 'get');
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('while watched, is read once: later reads are the kept view, not another read of three stores', async () => {
    const stop = watchPolicy(() => undefined);
    try {
      const reads = managedReads();
      const first = await currentPolicyView();
      expect(await currentPolicyView()).toEqual(first);
      await Promise.all([currentPolicyView(), storedPolicyView(), currentPolicyView()]);
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      stop();
    }
  });

  it('a managed or local change drops the kept view before the watcher hears of it', async () => {
    const seen: boolean[] = [];
    const stop = watchPolicy(() => void currentPolicyView().then((v) => seen.push(v.policy.killSwitch)));
    try {
      expect((await currentPolicyView()).policy.killSwitch).toBe(false);
      await fakeBrowser.storage.managed.set({ killSwitch: true });
      expect((await currentPolicyView()).policy.killSwitch).toBe(true);
      await fakeBrowser.storage.local.set({ [LOCAL_POLICY_KEY]: { strictMode: true } });
      expect((await currentPolicyView()).policy.strictMode).toBe(true);
      await vi.waitFor(() => expect(seen).toEqual([true, true]));
    } finally {
      stop();
    }
  });

  it('the background\'s own local save is read at once, not when storage.onChanged arrives', async () => {
    const stop = watchPolicy(() => undefined);
    try {
      expect((await currentPolicyView()).policy.verifierUrl).toBeNull();
      await saveLocalPolicy({ verifierUrl: 'http://127.0.0.1:8787' });
      expect((await currentPolicyView()).policy.verifierUrl).toBe('http://127.0.0.1:8787');
    } finally {
      stop();
    }
  });

  it('a new organisation policy (its row is in the database, which storage.onChanged does not watch) applies once it is said to have changed', async () => {
    const stop = watchPolicy(() => undefined);
    try {
      expect((await currentPolicyView()).verifier).toBeNull();
      await holdOrganisationPolicy(2, { protectedSites: ['http://127.0.0.1:8080/*'] });
      invalidatePolicyView();
      expect((await currentPolicyView()).verifier).toEqual({ version: 2, updatedAt: 1 });
    } finally {
      stop();
    }
  });

  it('unwatched, nothing would tell it of a change: every read is fresh', async () => {
    const stop = watchPolicy(() => undefined);
    await currentPolicyView();
    stop();
    stop();
    const reads = managedReads();
    await holdOrganisationPolicy(3, { protectedSites: ['http://127.0.0.1:8080/*'] });
    expect((await currentPolicyView()).verifier).toEqual({ version: 3, updatedAt: 1 });
    await currentPolicyView();
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it('a read that fails is not kept: the next one tries again', async () => {
    const stop = watchPolicy(() => undefined);
    try {
      vi.spyOn(fakeBrowser.storage.local, 'get').mockRejectedValueOnce(new Error('storage is gone'));
      await expect(currentPolicyView()).rejects.toThrow('storage is gone');
      expect((await currentPolicyView()).policy.protectedSites).toEqual([]);
    } finally {
      stop();
    }
  });

  it('has what Chrome refused to register added (its problem shown, its site failed closed); storedPolicyView, which registration reads, does not', async () => {
    const stop = watchPolicy(() => undefined);
    const registered = new Map<string, unknown>();
    const refuse = (p: string) => p === 'http://wiki.corp:8080/*';
    Object.assign(fakeBrowser.scripting, {
      getRegisteredContentScripts: async () => [...registered.values()],
      unregisterContentScripts: async (filter?: { ids?: string[] }) => {
        for (const id of filter?.ids ?? [...registered.keys()]) registered.delete(id);
      },
      registerContentScripts: async (scripts: Array<{ id: string; matches?: string[] }>) => {
        const bad = scripts.flatMap((s) => s.matches ?? []).find(refuse);
        if (bad) throw new Error(`Invalid url pattern '${bad}'`);
        for (const script of scripts) registered.set(script.id, script);
      },
    });
    try {
      await fakeBrowser.storage.managed.set({ protectedSites: ['http://wiki.corp:8080/*'] });
      await syncContentScripts(await storedPolicyView());
      const view = await currentPolicyView();
      expect(view.problems).toEqual([expect.objectContaining({ source: 'browser', field: 'content scripts' })]);
      expect(view.failClosed).toContain('*://wiki.corp/*');
      expect((await storedPolicyView()).problems).toEqual([]);
    } finally {
      // Chrome takes everything again: no refusal is left for the next test.
      registered.clear();
      Object.assign(fakeBrowser.scripting, { registerContentScripts: async () => undefined });
      await syncContentScripts(await readPolicyView());
      stop();
    }
  });
});
