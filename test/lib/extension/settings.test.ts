// Typed settings over the database's `settings` table (WXT defineItem's shape): a fallback for an
// absent row, a stored value that fails its schema read as absent (or as `invalid` says), migrations
// run once and stored at the new version, a newer build's row refused, `init` made once, writes in
// the caller's transaction committed or rolled back with it, and watch. Then each real setting.
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { badgeMarkSetting } from '@/lib/extension/badge-mark';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { verifierStatusSetting } from '@/lib/extension/kill-switch';
import { appendLog, logTables } from '@/lib/extension/log';
import { syncStateSetting } from '@/lib/extension/log-sync';
import { organisationPolicySetting } from '@/lib/extension/organisation-policy';
import { policyLoggedSetting } from '@/lib/extension/policy-log';
import { defineSetting } from '@/lib/extension/settings';

beforeEach(() => useDatabase(new CountersignDb(`cs-settings-${crypto.randomUUID()}`)));

const row = (key: string) => db().settings.get(key);
const Counter = z.strictObject({ count: z.int().min(0) });

describe('a setting', () => {
  const counter = defineSetting('counter', { schema: Counter, fallback: { count: 0 } });

  it('reads its fallback while absent, writing nothing; reads what was set, stored at its version', async () => {
    expect(await counter.getValue()).toEqual({ count: 0 });
    expect(await row('counter')).toBeUndefined();
    await counter.setValue({ count: 3 });
    expect(await counter.getValue()).toEqual({ count: 3 });
    expect(await row('counter')).toEqual({ key: 'counter', value: { count: 3 }, v: 1 });
    await counter.removeValue();
    expect(await counter.getValue()).toEqual({ count: 0 });
  });

  it('a row written before settings kept versions (no v) is version 1', async () => {
    await db().settings.put({ key: 'counter', value: { count: 5 } });
    expect(await counter.getValue()).toEqual({ count: 5 });
  });

  it.each([
    ['another shape', { count: 'five' }],
    ['a bare value', 5],
    ['null', null],
  ])('a stored value that fails its schema (%s) reads as absent, and is left as it is', async (_name, value) => {
    await db().settings.put({ key: 'counter', value });
    expect(await counter.getValue()).toEqual({ count: 0 });
    expect((await row('counter'))?.value).toEqual(value);
  });

  it('`invalid` says what an unreadable value reads as (fail closed, or say why)', async () => {
    const guarded = defineSetting('guarded', { schema: Counter, fallback: { count: 0 }, invalid: (stored) => ({ count: typeof stored === 'number' ? 99 : 98 }) });
    await db().settings.put({ key: 'guarded', value: 7 });
    expect(await guarded.getValue()).toEqual({ count: 99 });
    await db().settings.put({ key: 'guarded', value: 'x' });
    expect(await guarded.getValue()).toEqual({ count: 98 });
  });

  describe('migrations', () => {
    const v1ToV3 = { 2: vi.fn((old: unknown) => ({ count: old })), 3: vi.fn((old: unknown) => ({ ...(old as object), label: 'migrated' })) };
    const Labelled = z.strictObject({ count: z.int().min(0), label: z.string() });
    const labelled = defineSetting('labelled', { schema: Labelled, fallback: { count: 0, label: 'none' }, version: 3, migrations: v1ToV3 });

    beforeEach(() => {
      v1ToV3[2].mockClear();
      v1ToV3[3].mockClear();
    });

    it('run in order from the stored version; the result is stored at the new version, so the next read migrates nothing', async () => {
      await db().settings.put({ key: 'labelled', value: 4 });
      expect(await labelled.getValue()).toEqual({ count: 4, label: 'migrated' });
      expect(await row('labelled')).toEqual({ key: 'labelled', value: { count: 4, label: 'migrated' }, v: 3 });
      expect(v1ToV3[2].mock.invocationCallOrder[0]).toBeLessThan(v1ToV3[3].mock.invocationCallOrder[0]!);
      v1ToV3[2].mockClear();
      v1ToV3[3].mockClear();
      expect(await labelled.getValue()).toEqual({ count: 4, label: 'migrated' });
      expect(v1ToV3[2]).not.toHaveBeenCalled();
      expect(v1ToV3[3]).not.toHaveBeenCalled();
    });

    it('start at the stored version: a version 2 row runs only the migration to 3', async () => {
      await db().settings.put({ key: 'labelled', value: { count: 1 }, v: 2 });
      expect(await labelled.getValue()).toEqual({ count: 1, label: 'migrated' });
      expect(v1ToV3[2]).not.toHaveBeenCalled();
    });

    it('a migration whose result fails the schema, or that throws, leaves an unreadable value: absent, the row untouched', async () => {
      await db().settings.put({ key: 'labelled', value: -1 });
      expect(await labelled.getValue()).toEqual({ count: 0, label: 'none' });
      expect(await row('labelled')).toEqual({ key: 'labelled', value: -1 });
      const throwing = defineSetting('throwing', { schema: Counter, fallback: { count: 0 }, version: 2, migrations: { 2: () => { throw new Error('no'); } } });
      await db().settings.put({ key: 'throwing', value: { count: 1 } });
      expect(await throwing.getValue()).toEqual({ count: 0 });
    });

    it('a row a newer build wrote (a downgrade) is not read as this build\'s', async () => {
      await db().settings.put({ key: 'labelled', value: { count: 2, label: 'x' }, v: 4 });
      expect(await labelled.getValue()).toEqual({ count: 0, label: 'none' });
      expect((await row('labelled'))?.v).toBe(4);
    });
  });

  describe('init', () => {
    it('makes the value of an absent or unreadable row once and stores it: first reads at the same time agree', async () => {
      const make = vi.fn(() => ({ count: Math.floor(Math.random() * 1e9) }));
      const made = defineSetting('made', { schema: Counter, init: make });
      const [a, b, c] = await Promise.all([made.getValue(), made.getValue(), made.getValue()]);
      expect(b).toEqual(a);
      expect(c).toEqual(a);
      expect(make).toHaveBeenCalledTimes(1);
      expect((await row('made'))?.value).toEqual(a);
      await db().settings.put({ key: 'made', value: 'garbage' });
      const again = await made.getValue();
      expect(make).toHaveBeenCalledTimes(2);
      expect((await row('made'))?.value).toEqual(again);
    });
  });

  describe('in the caller\'s transaction', () => {
    const event = () => ({ id: crypto.randomUUID(), ts: 1, type: 'policy_changed' as const, trc: null, principal: null, agent: null, tool: null, site: null, digest: null, diff: null, detail: {} });

    it('commits with the log event written beside it', async () => {
      await db().transaction('rw', logTables(db().settings), async () => {
        expect(await counter.getValue()).toEqual({ count: 0 });
        await counter.setValue({ count: 1 });
        await appendLog(event());
        expect(await counter.getValue()).toEqual({ count: 1 });
      });
      expect(await counter.getValue()).toEqual({ count: 1 });
      expect(await db().unchained.count()).toBe(1);
    });

    it('is rolled back with it: a transaction that fails after the write leaves the old value, and no event', async () => {
      await counter.setValue({ count: 1 });
      await expect(
        db().transaction('rw', logTables(db().settings), async () => {
          await counter.setValue({ count: 2 });
          await appendLog(event());
          throw new Error('aborted after the write');
        }),
      ).rejects.toThrow('aborted after the write');
      expect(await counter.getValue()).toEqual({ count: 1 });
      expect(await db().unchained.count()).toBe(0);
    });

    it('a migration on read inside a transaction is stored in it, and rolled back with it', async () => {
      const migrating = defineSetting('migrating', { schema: Counter, fallback: { count: 0 }, version: 2, migrations: { 2: (old) => ({ count: old }) } });
      await db().settings.put({ key: 'migrating', value: 8 });
      await expect(
        db().transaction('rw', db().settings, async () => {
          expect(await migrating.getValue()).toEqual({ count: 8 });
          expect(await row('migrating')).toEqual({ key: 'migrating', value: { count: 8 }, v: 2 });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await row('migrating')).toEqual({ key: 'migrating', value: 8 });
    });
  });

  it('watch: called on each change with the new and the previous value, not for the value it has now; stops when told', async () => {
    await counter.setValue({ count: 1 });
    const seen: Array<[unknown, unknown]> = [];
    const stop = counter.watch((value, previous) => seen.push([value, previous]));
    const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
    await settle();
    expect(seen).toEqual([]);
    await counter.setValue({ count: 2 });
    await settle();
    await counter.setValue({ count: 2 });
    await settle();
    await db().settings.put({ key: 'counter', value: 'garbage' });
    await settle();
    expect(seen).toEqual([
      [{ count: 2 }, { count: 1 }],
      [{ count: 0 }, { count: 2 }],
    ]);
    stop();
    await counter.setValue({ count: 3 });
    await settle();
    expect(seen).toHaveLength(2);
  });
});

describe('the extension\'s settings, each as it was stored before', () => {
  it('organisation policy: a stored row that is not a held state is no copy, and says so (fails closed to "none held, fetch again")', async () => {
    expect(await organisationPolicySetting.getValue()).toEqual({ format: 1, copy: null, checkedAt: null, attemptedAt: null, error: null });
    await db().settings.put({ key: organisationPolicySetting.key, value: { format: 2, copies: [] } });
    expect(await organisationPolicySetting.getValue()).toMatchObject({ copy: null, error: expect.stringMatching(/could not be read/) });
    const state = { format: 1 as const, copy: { verifierUrl: 'https://v.example', version: 3, policy: { killSwitch: true }, updatedAt: 1, fetchedAt: 2 }, checkedAt: 2, attemptedAt: 2, error: null };
    await organisationPolicySetting.setValue(state);
    expect(await organisationPolicySetting.getValue()).toEqual(state);
  });

  it('verifier status: a row from before `url` was kept (version 1) migrates with url null; round-trips; garbage is "not asked yet"', async () => {
    await db().settings.put({ key: verifierStatusSetting.key, value: { reachable: true, engaged: true, entries: [{ scope: 'global', target: null, since: 5 }], policyVersion: 'v1', checkedAt: 3, error: null } });
    expect(await verifierStatusSetting.getValue()).toEqual({ url: null, reachable: true, engaged: true, entries: [{ scope: 'global', target: null, since: 5 }], policyVersion: 'v1', checkedAt: 3, error: null });
    expect((await row(verifierStatusSetting.key))?.v).toBe(2);
    await db().settings.put({ key: verifierStatusSetting.key, value: { reachable: 'yes' }, v: 2 });
    expect(await verifierStatusSetting.getValue()).toMatchObject({ url: null, reachable: false, engaged: false, entries: [] });
  });

  it('log sync state: round-trips; garbage starts over with no backoff', async () => {
    const state = { failures: 2, nextAttemptAt: 60_000, lastError: 'HTTP 503', lastSyncedAt: null };
    await syncStateSetting.setValue(state);
    expect(await syncStateSetting.getValue()).toEqual(state);
    await db().settings.put({ key: syncStateSetting.key, value: { failures: -1 } });
    expect(await syncStateSetting.getValue()).toEqual({ failures: 0, nextAttemptAt: 0, lastError: null, lastSyncedAt: null });
  });

  it('policy-log hash: a string, or null when none was logged (or the row is unreadable: the policy is logged again)', async () => {
    expect(await policyLoggedSetting.getValue()).toBeNull();
    await db().settings.put({ key: policyLoggedSetting.key, value: 'abc' });
    expect(await policyLoggedSetting.getValue()).toBe('abc');
    await db().settings.put({ key: policyLoggedSetting.key, value: 42 });
    expect(await policyLoggedSetting.getValue()).toBeNull();
  });

  it('badge mark: version 2 (issue 22); a version 1 bare string migrates once, and is stored as version 2', async () => {
    await db().settings.put({ key: badgeMarkSetting.key, value: 'ZQ7' });
    expect(await badgeMarkSetting.getValue()).toEqual({ kind: 'text', text: 'ZQ7' });
    expect(await row(badgeMarkSetting.key)).toEqual({ key: 'badge-mark', value: { kind: 'text', text: 'ZQ7' }, v: 2 });
    // A version 2 row holding a string is not migrated again: unreadable, a new pattern.
    await db().settings.put({ key: badgeMarkSetting.key, value: 'ZQ7', v: 2 });
    expect((await badgeMarkSetting.getValue()).kind).toBe('pattern');
  });
});
