// The hash-chained log: hashing per DESIGN.md, appending, and each tamper (L-01 … L-11) detected.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '@/lib/protocol/digest';
import { sha256Hex } from '@/lib/protocol/encoding';
import { ChainBroken } from '@/lib/protocol/errors';
import { ZERO_HASH, appendEvent, checkBatch, hashEvent, verifyChain } from '@/lib/protocol/log-chain';
import type { ChainHead, LogEvent, NewEventFields } from '@/lib/protocol/log-chain';

function fields(i: number, type: NewEventFields['type'] = 'proposed'): NewEventFields {
  return {
    id: `ev-${i}`,
    ts: 1_700_000_000_000 + i,
    type,
    trc: '0af7651916cd43dd8448eb211c80319c',
    principal: { kind: 'agent', id: 'agent:forum-helper' },
    agent: 'agent:forum-helper',
    tool: 'intraforum',
    site: 'http://127.0.0.1:8080',
    digest: '1pRo2WdXsgbaOGgxeKhZCOvnS5VafbShxdbGtx2hzM4',
    diff: { kind: 'text', before: null, after: `reply ${i}` },
    detail: i % 2 ? { note: 'x' } : null,
  };
}

async function chain(n: number, deviceId = 'dev-1', epoch = 1, head: ChainHead | null = null): Promise<LogEvent[]> {
  const events: LogEvent[] = [];
  for (let i = 1; i <= n; i++) {
    const event = await appendEvent(head, { deviceId, epoch }, fields(i));
    events.push(event);
    head = event;
  }
  return events;
}

function stored(events: LogEvent[]) {
  const byPos = new Map(events.map((e) => [`${e.epoch}:${e.seq}`, e.hash]));
  return (epoch: number, seq: number) => byPos.get(`${epoch}:${seq}`);
}

function headOf(e: LogEvent): ChainHead {
  return { epoch: e.epoch, seq: e.seq, hash: e.hash };
}

async function breakOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (e) {
    if (e instanceof ChainBroken) return e.reason;
    throw e;
  }
}

describe('hashing and appending', () => {
  it('hash is SHA-256 hex of the RFC 8785 JSON of the event without hash', async () => {
    const [first] = await chain(1);
    const { hash, ...rest } = first!;
    expect(hash).toBe(await sha256Hex(canonicalJson(rest)));
    expect(first).toMatchObject({ seq: 1, epoch: 1, prev: ZERO_HASH });
  });

  it('L-11: the same event with other key order hashes the same', async () => {
    const [first] = await chain(1);
    const reordered = Object.fromEntries(Object.entries(first!).reverse()) as LogEvent;
    expect(await hashEvent(reordered)).toBe(first!.hash);
  });

  it('appends seq+1 with prev = the head hash; a new epoch restarts at seq 1 from zeros', async () => {
    const events = await chain(3);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[2]!.prev).toBe(events[1]!.hash);
    const reinstall = await appendEvent(headOf(events[2]!), { deviceId: 'dev-1', epoch: 2 }, fields(4));
    expect(reinstall).toMatchObject({ epoch: 2, seq: 1, prev: ZERO_HASH });
    expect(await verifyChain('dev-1', [...events, reinstall])).toEqual(headOf(reinstall));
  });

  it('a chain of any length verifies from genesis (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 25 }), async (n) => {
        const events = await chain(n);
        expect(await verifyChain('dev-1', events)).toEqual(headOf(events.at(-1)!));
      }),
      { numRuns: 20 },
    );
  });
});

describe('batches against a stored head', () => {
  it('extends the head and reports the new head', async () => {
    const events = await chain(6);
    const result = await checkBatch({ deviceId: 'dev-1', head: headOf(events[2]!), storedHash: stored(events) }, events.slice(3));
    expect(result.fresh.map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(result.head).toEqual(headOf(events[5]!));
  });

  it('L-02: an acknowledged batch re-sent is acknowledged again without duplicates', async () => {
    const events = await chain(6);
    const state = { deviceId: 'dev-1', head: headOf(events[5]!), storedHash: stored(events) };
    const again = await checkBatch(state, events.slice(2));
    expect(again).toEqual({ fresh: [], duplicates: 4, head: headOf(events[5]!) });
    const overlapping = await checkBatch({ ...state, head: headOf(events[3]!) }, events.slice(2));
    expect(overlapping.fresh.map((e) => e.seq)).toEqual([5, 6]);
    expect(overlapping.duplicates).toBe(2);
  });

  it('L-01: gap — a batch starting at seq 7 when the head is 5', async () => {
    const events = await chain(8);
    expect(await breakOf(checkBatch({ deviceId: 'dev-1', head: headOf(events[4]!), storedHash: stored(events) }, events.slice(6)))).toBe('gap');
  });

  it('L-01: gap — a first batch that does not start at seq 1', async () => {
    const events = await chain(3);
    expect(await breakOf(verifyChain('dev-1', events.slice(1)))).toBe('gap');
  });

  it('L-03: fork — a different event at an acknowledged seq (kept as evidence by the verifier)', async () => {
    const events = await chain(4);
    const other = await appendEvent(headOf(events[1]!), { deviceId: 'dev-1', epoch: 1 }, fields(99, 'rejected'));
    const error = await checkBatch({ deviceId: 'dev-1', head: headOf(events[3]!), storedHash: stored(events) }, [other]).catch((e: ChainBroken) => e);
    expect(error).toBeInstanceOf(ChainBroken);
    expect(error).toMatchObject({ code: 'chain_broken', reason: 'fork', epoch: 1, seq: 3 });
  });

  it('L-08: fork — a second genesis for the same device and epoch', async () => {
    const events = await chain(2);
    const genesis2 = await appendEvent(null, { deviceId: 'dev-1', epoch: 1 }, fields(50));
    expect(await breakOf(checkBatch({ deviceId: 'dev-1', head: headOf(events[1]!), storedHash: stored(events) }, [genesis2]))).toBe('fork');
  });

  it('fork — two different events at one position inside one batch', async () => {
    const events = await chain(2);
    const other = await appendEvent(headOf(events[0]!), { deviceId: 'dev-1', epoch: 1 }, fields(77));
    expect(await breakOf(verifyChain('dev-1', [events[0]!, events[1]!, other]))).toBe('fork');
  });

  it('L-04: reorder — events out of order inside a batch', async () => {
    const events = await chain(5);
    const shuffled = [events[0]!, events[2]!, events[1]!, events[3]!];
    expect(await breakOf(verifyChain('dev-1', shuffled))).toBe('reorder');
  });

  it('L-05: rewrite — an event whose content was changed without re-hashing', async () => {
    const events = await chain(3);
    const edited = { ...events[1]!, type: 'approved' as const };
    expect(await breakOf(verifyChain('dev-1', [events[0]!, edited, events[2]!]))).toBe('rewrite');
  });

  it('L-05: rewrite — prev does not match the stored head', async () => {
    const events = await chain(4);
    const forged = await chain(4);
    // forged[3] is a well-formed event at seq 4 whose prev is another history's seq 3.
    const tampered = { ...forged[3]!, prev: 'f'.repeat(64) };
    const rehashed = { ...tampered, hash: await hashEvent(tampered) };
    expect(await breakOf(checkBatch({ deviceId: 'dev-1', head: headOf(events[2]!), storedHash: stored(events) }, [rehashed]))).toBe('rewrite');
  });

  it('L-06: rewrite of history — entry k changed and every later hash recomputed — is refused', async () => {
    const events = await chain(5);
    const rewritten: LogEvent[] = [events[0]!];
    let head: ChainHead = headOf(events[0]!);
    for (let i = 2; i <= 6; i++) {
      const e = await appendEvent(head, { deviceId: 'dev-1', epoch: 1 }, { ...fields(i), detail: { rewritten: true } });
      rewritten.push(e);
      head = headOf(e);
    }
    const code = await breakOf(checkBatch({ deviceId: 'dev-1', head: headOf(events[4]!), storedHash: stored(events) }, rewritten));
    expect(['fork', 'rewrite']).toContain(code);
  });

  it('L-07: rollback — an older epoch after a newer one is never accepted as new', async () => {
    const old = await chain(2, 'dev-1', 1);
    const current = await chain(2, 'dev-1', 2);
    const state = { deviceId: 'dev-1', head: headOf(current[1]!), storedHash: stored([...old, ...current]) };
    const extraOld = await appendEvent(headOf(old[1]!), { deviceId: 'dev-1', epoch: 1 }, fields(3));
    expect(await breakOf(checkBatch(state, [extraOld]))).toBe('fork');
  });

  it('L-09: splice — a valid event from device A inside device B\'s batch', async () => {
    const a = await chain(3, 'dev-A');
    const b = await chain(3, 'dev-B');
    expect(await breakOf(verifyChain('dev-B', [b[0]!, b[1]!, a[2]!]))).toBe('splice');
  });

  it('L-09: splice — device A\'s event relabelled as B\'s fails its hash', async () => {
    const a = await chain(3, 'dev-A');
    const b = await chain(2, 'dev-B');
    const relabelled = { ...a[2]!, deviceId: 'dev-B' };
    expect(await breakOf(verifyChain('dev-B', [...b, relabelled]))).toBe('rewrite');
  });
});
