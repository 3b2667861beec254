// POST /v1/log/batch on SQLite and PostgreSQL: signed batches, chain continuity, idempotent
// retries, forks kept as evidence and freezing the chain (L-01 … L-15).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent, newTraceId, signCompactJws, signLogBatch } from '@/lib/protocol';
import type { ChainHead, LogEvent } from '@/lib/protocol';
import { DATABASES, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';

async function chain(deviceId: string, from: ChainHead | null, n: number, trc: string | null = null, epoch = 1): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  let head = from;
  for (let i = 0; i < n; i++) {
    const e = await appendEvent(head, { deviceId, epoch }, {
      id: `e-${Math.random().toString(36).slice(2)}`, ts: 1_800_000_000_000 + i, type: i % 2 ? 'approved' : 'held', trc, principal: { kind: 'agent', id: 'agent:forum-helper' },
      agent: 'agent:forum-helper', tool: 'intraforum', site: 'http://127.0.0.1:8080', digest: null, diff: null, detail: null,
    });
    out.push(e);
    head = e;
  }
  return out;
}

const headOf = (e: LogEvent): ChainHead => ({ epoch: e.epoch, seq: e.seq, hash: e.hash });

describe.each(DATABASES)('POST /v1/log/batch (%s)', (kind) => {
  let v: TestVerifier;
  beforeAll(async () => {
    v = await startVerifier(kind);
  });
  afterAll(() => v.close());

  async function send(device: Device, events: LogEvent[], deviceId = device.deviceId) {
    const jws = await signLogBatch(device.privateKey, device.kid, { deviceId, events });
    return v.app.inject({ method: 'POST', url: '/v1/log/batch', headers: { 'content-type': 'application/jose' }, payload: jws });
  }

  it('accepts a chain in batches, and the events are found by trace in order', async () => {
    const d = await v.enroll('alice');
    const trc = newTraceId();
    const events = await chain(d.deviceId, null, 6, trc);
    expect((await send(d, events.slice(0, 4))).json()).toEqual({ ackedSeq: 4 });
    expect((await send(d, events.slice(4))).json()).toEqual({ ackedSeq: 6 });
    const found = (await v.admin('GET', `/v1/admin/events?trace=${trc}`)).json() as { events: LogEvent[] };
    expect(found.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(found.events[0]).toEqual(events[0]);
  });

  it('L-02: a re-sent acknowledged batch is acknowledged again, stored once', async () => {
    const d = await v.enroll('alice');
    const trc = newTraceId();
    const events = await chain(d.deviceId, null, 3, trc);
    expect((await send(d, events)).statusCode).toBe(200);
    expect((await send(d, events)).json()).toEqual({ ackedSeq: 3 });
    expect((await send(d, events.slice(1))).json()).toEqual({ ackedSeq: 3 });
    const found = (await v.admin('GET', `/v1/admin/events?trace=${trc}`)).json() as { events: LogEvent[] };
    expect(found.events).toHaveLength(3);
  });

  it('L-01: a gap → 409 chain_broken, nothing stored', async () => {
    const d = await v.enroll('alice');
    const events = await chain(d.deviceId, null, 5);
    await send(d, events.slice(0, 2));
    const res = await send(d, events.slice(3));
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'chain_broken', message: expect.stringContaining('gap') } });
    expect((await send(d, events.slice(2))).json()).toEqual({ ackedSeq: 5 });
  });

  it('L-12: a batch is atomic — one bad event refuses the whole batch', async () => {
    const d = await v.enroll('alice');
    const trc = newTraceId();
    const events = await chain(d.deviceId, null, 4, trc);
    const tampered = [...events.slice(0, 3), { ...events[3]!, type: 'released' as const }];
    expect((await send(d, tampered)).statusCode).toBe(409);
    expect(((await v.admin('GET', `/v1/admin/events?trace=${trc}`)).json() as { events: unknown[] }).events).toHaveLength(0);
  });

  it('L-03: a fork is refused, kept as evidence, and freezes the device\'s chain', async () => {
    const d = await v.enroll('alice');
    const events = await chain(d.deviceId, null, 3);
    await send(d, events);
    const other = await chain(d.deviceId, headOf(events[0]!), 2);
    const res = await send(d, other);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'chain_broken', message: expect.stringContaining('fork') } });
    const evidence = await v.database.db.selectFrom('chain_evidence').selectAll().where('device_id', '=', d.deviceId).execute();
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({ seq: 2, reason: 'fork', stored_hash: events[1]!.hash });
    const next = await chain(d.deviceId, headOf(events[2]!), 1);
    expect((await send(d, next)).json()).toMatchObject({ error: { code: 'chain_broken', message: expect.stringContaining('frozen') } });
  });

  it('L-09: a batch for another device, signed with this device\'s key → 403 key_unknown', async () => {
    const a = await v.enroll('alice');
    const b = await v.enroll('bob');
    const events = await chain(b.deviceId, null, 1);
    const res = await send(a, events, b.deviceId);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'key_unknown' } });
  });

  it('L-09: an event of another device inside this device\'s batch → 409 chain_broken (splice)', async () => {
    const a = await v.enroll('alice');
    const b = await v.enroll('bob');
    const mine = await chain(a.deviceId, null, 1);
    const theirs = await chain(b.deviceId, headOf(mine[0]!), 1);
    expect((await send(a, [...mine, ...theirs])).json()).toMatchObject({ error: { code: 'chain_broken', message: expect.stringContaining('splice') } });
  });

  it('L-10: a revoked key → 403 key_revoked', async () => {
    const d = await v.enroll('alice');
    await v.admin('POST', `/v1/admin/devices/${d.kid}/revoke`);
    expect((await send(d, await chain(d.deviceId, null, 1))).json()).toMatchObject({ error: { code: 'key_revoked' } });
  });

  it('L-15: an unknown event type → 400 token_malformed; not a JWS → 400', async () => {
    const d = await v.enroll('alice');
    const [e] = await chain(d.deviceId, null, 1);
    const jws = await signCompactJws(d.privateKey, { typ: 'countersign-log+jwt', kid: d.kid }, { deviceId: d.deviceId, events: [{ ...e, type: 'wiped' }] });
    const res = await v.app.inject({ method: 'POST', url: '/v1/log/batch', headers: { 'content-type': 'application/jose' }, payload: jws });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'token_malformed' } });
    const junk = await v.app.inject({ method: 'POST', url: '/v1/log/batch', headers: { 'content-type': 'application/jose' }, payload: 'not-a-jws' });
    expect(junk.json()).toMatchObject({ error: { code: 'token_malformed' } });
  });

  it('a batch sent as JSON instead of application/jose → 400 payload_invalid', async () => {
    const res = await v.app.inject({ method: 'POST', url: '/v1/log/batch', payload: { events: [] } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'payload_invalid' } });
  });

  it('a batch of 500 events is accepted in one go', async () => {
    const d = await v.enroll('alice');
    expect((await send(d, await chain(d.deviceId, null, 500))).json()).toEqual({ ackedSeq: 500 });
  });

  it('a reinstall (epoch 2) continues after epoch 1', async () => {
    const d = await v.enroll('alice');
    const first = await chain(d.deviceId, null, 2);
    await send(d, first);
    const second = await chain(d.deviceId, headOf(first[1]!), 2, null, 2);
    expect(second[0]).toMatchObject({ epoch: 2, seq: 1 });
    expect((await send(d, second)).json()).toEqual({ ackedSeq: 2 });
  });
});
