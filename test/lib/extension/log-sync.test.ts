// The local log and its sync against a real verifier: chained events, batches of 500, an outage
// with backoff, a service-worker restart mid-sync and a lost answer — nothing lost, nothing duplicated.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { enroll } from '@/lib/extension/enrollment';
import { listLog, recordEvent, exportLog } from '@/lib/extension/log';
import { backoffMs, syncLog, syncState } from '@/lib/extension/log-sync';
import { newTraceId, verifyChain } from '@/lib/protocol';
import type { LogEvent } from '@/lib/protocol';
import { injectFetch } from '../../helpers/inject-fetch';
import type { FetchFaults } from '../../helpers/inject-fetch';
import { startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

let v: TestVerifier;
let name: string;
const faults: FetchFaults = {};
const verifierFetch = () => injectFetch(() => v.app, faults);

beforeEach(async () => {
  v = await startVerifier('sqlite');
  name = `cs-sync-${crypto.randomUUID()}`;
  useDatabase(new CountersignDb(name));
  faults.down = false;
  faults.loseAnswer = false;
});
afterEach(() => v.close());

async function enrollAlice(): Promise<string> {
  const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
  const row = await enroll({ verifierUrl: 'http://verifier.test', code, label: 'test' }, verifierFetch());
  return row.deviceId;
}

function event(trc: string, i: number, type: 'held' | 'approved' | 'proposed' = 'held') {
  return { id: crypto.randomUUID(), ts: 1_800_000_000_000 + i, type, trc, principal: null, agent: 'agent:forum-helper', tool: 'intraforum', site: 'http://127.0.0.1:8080', digest: null, diff: null, detail: { i } };
}

async function verifierEvents(trc: string): Promise<LogEvent[]> {
  return ((await v.admin('GET', `/v1/admin/events?trace=${trc}`)).json() as { events: LogEvent[] }).events;
}

async function storedCount(deviceId: string): Promise<number> {
  return (await v.database.db.selectFrom('log_events').select(({ fn }) => fn.countAll<number>().as('n')).where('device_id', '=', deviceId).executeTakeFirstOrThrow()).n;
}

describe('local log', () => {
  it('chains events from enrollment on; events before enrollment are chained at enrollment, in order', async () => {
    const trc = newTraceId();
    await recordEvent(event(trc, 1, 'proposed'));
    const deviceId = await enrollAlice();
    await recordEvent(event(trc, 2));
    const events = await listLog();
    expect(events.map((e) => e.type)).toEqual(['proposed', 'enrolled', 'held']);
    expect(await verifyChain(deviceId, events)).toMatchObject({ seq: 3 });
  });

  it('filters by trace, agent and type, and exports JSON Lines', async () => {
    await enrollAlice();
    const [a, b] = [newTraceId(), newTraceId()];
    await recordEvent(event(a, 1));
    await recordEvent(event(b, 2, 'approved'));
    expect((await listLog({ trace: a })).map((e) => e.trc)).toEqual([a]);
    expect((await listLog({ type: 'approved' })).map((e) => e.trc)).toEqual([b]);
    expect((await listLog({ agent: 'agent:forum-helper' })).length).toBe(2);
    const lines = (await exportLog()).split('\n').map((l) => JSON.parse(l) as LogEvent);
    expect(lines.map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});

describe('log sync', () => {
  it('sends every event in batches of at most 500 and marks them synced', async () => {
    const deviceId = await enrollAlice();
    const trc = newTraceId();
    await db().transaction('rw', [db().log, db().unchained, db().chain], async () => {
      for (let i = 0; i < 1200; i++) await (await import('@/lib/extension/log')).appendLog(event(trc, i));
    });
    const fetchFn = verifierFetch();
    const result = await syncLog({ fetch: fetchFn, now: Date.now() });
    expect(result).toEqual({ sent: 1201, pending: 0 });
    expect(fetchFn.calls.filter((c) => c === 'POST /v1/log/batch')).toHaveLength(3);
    expect(await storedCount(deviceId)).toBe(1201);
    expect((await verifierEvents(trc)).map((e) => e.seq)).toEqual(Array.from({ length: 1200 }, (_, i) => i + 2));
  });

  it('S-10: the verifier down for a while → backoff, nothing lost; a worker restart; then everything arrives once, in order', async () => {
    const deviceId = await enrollAlice();
    const trc = newTraceId();
    faults.down = true;
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await recordEvent(event(trc, i));
    const failed = await syncLog({ fetch: verifierFetch(), now: t0 });
    expect(failed).toMatchObject({ sent: 0, pending: 6, error: expect.stringContaining('verifier_unavailable') });
    expect((await syncState()).nextAttemptAt).toBe(t0 + backoffMs(1));
    // Inside the backoff window nothing is attempted.
    const fetchFn = verifierFetch();
    expect(await syncLog({ fetch: fetchFn, now: t0 + 1000 })).toMatchObject({ sent: 0 });
    expect(fetchFn.calls).toEqual([]);

    // The service worker restarts: only IndexedDB remains.
    useDatabase(new CountersignDb(name));
    for (let i = 5; i < 8; i++) await recordEvent(event(trc, i));
    faults.down = false;
    const ok = await syncLog({ fetch: verifierFetch(), now: t0 + backoffMs(1) + 1 });
    expect(ok).toEqual({ sent: 9, pending: 0 });
    expect(await storedCount(deviceId)).toBe(9);
    expect((await verifierEvents(trc)).map((e) => e.detail)).toEqual(Array.from({ length: 8 }, (_, i) => ({ i })));
    expect((await syncState()).failures).toBe(0);
  });

  it('a lost answer mid-sync (the worker died after sending) → re-sent and acknowledged again, never duplicated', async () => {
    const deviceId = await enrollAlice();
    const trc = newTraceId();
    for (let i = 0; i < 4; i++) await recordEvent(event(trc, i));
    faults.loseAnswer = true;
    expect((await syncLog({ fetch: verifierFetch(), now: Date.now() })).error).toBeDefined();
    expect(await storedCount(deviceId)).toBe(5);
    expect((await listLog()).length).toBe(5);
    useDatabase(new CountersignDb(name));
    faults.loseAnswer = false;
    await recordEvent(event(trc, 4));
    expect(await syncLog({ fetch: verifierFetch(), force: true })).toEqual({ sent: 6, pending: 0 });
    expect(await storedCount(deviceId)).toBe(6);
  });

  it('a chain the verifier refuses (a rewritten event) stays pending with the verifier\'s code', async () => {
    await enrollAlice();
    const trc = newTraceId();
    await recordEvent(event(trc, 1));
    const row = (await db().log.toArray()).find((e) => e.trc === trc)!;
    await db().log.update(row.id, { type: 'approved' });
    const result = await syncLog({ fetch: verifierFetch(), force: true });
    expect(result.error).toContain('chain_broken');
    expect(result.pending).toBeGreaterThan(0);
  });

  it('does nothing before enrollment', async () => {
    await recordEvent(event(newTraceId(), 1));
    expect(await syncLog({ fetch: verifierFetch() })).toMatchObject({ sent: 0, pending: 0, error: 'not enrolled' });
  });
});
