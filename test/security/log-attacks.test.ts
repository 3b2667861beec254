// Log-ingest attacks over HTTP (`POST /v1/log/batch` of a verifier listening on a port): the L- cases of
// SECURITY-CASES.md that test/server/routes/log.test.ts does not already send (L-04 … L-08, L-10, L-11,
// L-13, L-15). Each refused batch stores nothing and leaves the device's chain able to continue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent, canonicalJson, encodeBase64url, generateEs256KeyPair, hashEvent, newTraceId, signCompactJws, signLogBatch } from '@/lib/protocol';
import type { ChainHead, LogEvent } from '@/lib/protocol';
import { recordAttacks } from '../helpers/tally';
import { startVerifier } from '../helpers/verifier';
import type { Device, TestVerifier } from '../helpers/verifier';

let v: TestVerifier;
let url: string;

beforeAll(async () => {
  v = await startVerifier('sqlite');
  url = await v.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => v.close());

async function chain(deviceId: string, from: ChainHead | null, n: number, o: { epoch?: number; ts?: (i: number) => number; trc?: string } = {}): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  let head = from;
  for (let i = 0; i < n; i++) {
    const e = await appendEvent(head, { deviceId, epoch: o.epoch ?? from?.epoch ?? 1 }, {
      id: crypto.randomUUID(), ts: o.ts ? o.ts(i) : 1_800_000_000_000 + i, type: i % 2 ? 'approved' : 'held', trc: o.trc ?? null,
      principal: { kind: 'agent', id: 'agent:forum-helper' }, agent: 'agent:forum-helper', tool: 'intraforum', site: 'http://127.0.0.1:8080', digest: null, diff: null, detail: null,
    });
    out.push(e);
    head = e;
  }
  return out;
}

const headOf = (e: LogEvent): ChainHead => ({ epoch: e.epoch, seq: e.seq, hash: e.hash });

async function post(jws: string, contentType = 'application/jose'): Promise<{ status: number; code: string; ackedSeq?: number; message?: string }> {
  const res = await fetch(`${url}/v1/log/batch`, { method: 'POST', headers: { 'content-type': contentType }, body: jws });
  const json = (await res.json()) as { ackedSeq?: number; error?: { code: string; message: string } };
  return { status: res.status, code: json.error?.code ?? 'acked', ...(json.ackedSeq !== undefined ? { ackedSeq: json.ackedSeq } : {}), ...(json.error ? { message: json.error.message } : {}) };
}

const send = (d: Device, events: LogEvent[], deviceId = d.deviceId) => signLogBatch(d.privateKey, d.kid, { deviceId, events }).then((jws) => post(jws));

/** The device's stored chain, in seq order, as the verifier keeps it. */
async function stored(d: Device): Promise<Array<{ epoch: number; seq: number; hash: string }>> {
  return v.database.db.selectFrom('log_events').select(['epoch', 'seq', 'hash']).where('device_id', '=', d.deviceId).orderBy('epoch').orderBy('seq').execute();
}

/** Sends a hostile batch, expects the code, and that nothing was stored by it. */
async function expectRefused(source: string, d: Device, make: () => Promise<{ status: number; code: string; message?: string }>, code: string, reason?: string): Promise<void> {
  const before = await stored(d);
  const answer = await make();
  recordAttacks(`${source} via POST /v1/log/batch`, 1, answer.status === 200 ? 1 : 0);
  expect(answer.code).toBe(code);
  if (reason) expect(answer.message).toContain(reason);
  expect(await stored(d)).toEqual(before);
}

describe('L-: log-ingest attacks via POST /v1/log/batch', () => {
  it('L-04 events reordered inside a batch → 409 chain_broken (reorder); the chain continues in order afterwards', async () => {
    const d = await v.enroll('alice');
    const events = await chain(d.deviceId, null, 4);
    await expectRefused('L-04', d, () => send(d, [events[0]!, events[2]!, events[1]!, events[3]!]), 'chain_broken');
    expect(await send(d, events)).toMatchObject({ status: 200, ackedSeq: 4 });
  });

  it('L-05 an earlier entry altered without re-hashing → 409 chain_broken; prev not matching the stored head → 409', async () => {
    const d = await v.enroll('alice');
    const events = await chain(d.deviceId, null, 3);
    await expectRefused('L-05', d, () => send(d, [events[0]!, { ...events[1]!, type: 'released' }, events[2]!]), 'chain_broken');
    expect((await send(d, events.slice(0, 2))).status).toBe(200);
    const wrongPrev = await chain(d.deviceId, { ...headOf(events[1]!), hash: 'f'.repeat(64) }, 1);
    await expectRefused('L-05', d, () => send(d, wrongPrev), 'chain_broken');
  });

  it('L-06 history rewritten (entry k changed, every later hash recomputed) → 409 chain_broken, the stored chain kept', async () => {
    const d = await v.enroll('alice');
    const events = await chain(d.deviceId, null, 5);
    expect((await send(d, events)).status).toBe(200);
    const rewritten = [...events.slice(0, 2), ...(await chain(d.deviceId, headOf(events[1]!), 3))];
    expect(rewritten[2]!.hash).not.toBe(events[2]!.hash);
    await expectRefused('L-06', d, () => send(d, rewritten), 'chain_broken');
    expect((await stored(d)).map((e) => e.hash)).toEqual(events.map((e) => e.hash));
  });

  it('L-07 rollback: a restored device re-sends a shorter chain as new (same epoch) → refused, never overwrites', async () => {
    const d = await v.enroll('alice');
    const events = await chain(d.deviceId, null, 4);
    expect((await send(d, events)).status).toBe(200);
    const restored = await chain(d.deviceId, headOf(events[1]!), 1); // seq 3 again, different content
    const before = await stored(d);
    const answer = await send(d, restored);
    recordAttacks('L-07 via POST /v1/log/batch', 1, answer.status === 200 ? 1 : 0);
    expect(answer).toMatchObject({ status: 409, code: 'chain_broken' });
    expect(await stored(d)).toEqual(before);
  });

  it('L-07 rollback to an older epoch after a newer one → 409 chain_broken', async () => {
    const d = await v.enroll('alice');
    const first = await chain(d.deviceId, null, 2);
    expect((await send(d, first)).status).toBe(200);
    const second = await chain(d.deviceId, headOf(first[1]!), 2, { epoch: 2 });
    expect((await send(d, second)).status).toBe(200);
    const older = await chain(d.deviceId, headOf(first[1]!), 1, { epoch: 1 });
    await expectRefused('L-07', d, () => send(d, older), 'chain_broken');
  });

  it('L-08 a second genesis for the same device and epoch → 409 chain_broken (fork), the chain frozen', async () => {
    const d = await v.enroll('alice');
    expect((await send(d, await chain(d.deviceId, null, 2))).status).toBe(200);
    await expectRefused('L-08', d, async () => send(d, await chain(d.deviceId, null, 1)), 'chain_broken', 'fork');
  });

  it('L-10 a batch signed by an unknown key → 403 key_unknown; by another enrolled device\'s key → 403 key_unknown', async () => {
    const d = await v.enroll('alice');
    const other = await v.enroll('bob');
    const events = await chain(d.deviceId, null, 1);
    const stranger = await generateEs256KeyPair();
    await expectRefused('L-10', d, async () => post(await signLogBatch(stranger.privateKey, d.kid, { deviceId: d.deviceId, events })), 'signature_invalid');
    await expectRefused('L-10', d, async () => post(await signLogBatch(other.privateKey, other.kid, { deviceId: d.deviceId, events })), 'key_unknown');
    await expectRefused('L-10', d, async () => post(await signLogBatch(stranger.privateKey, 'A'.repeat(43), { deviceId: d.deviceId, events })), 'key_unknown');
  });

  it('L-10 a signature over other content (another batch\'s signature spliced on) → 403 signature_invalid', async () => {
    const d = await v.enroll('alice');
    const a = await signLogBatch(d.privateKey, d.kid, { deviceId: d.deviceId, events: await chain(d.deviceId, null, 1) });
    const b = await signLogBatch(d.privateKey, d.kid, { deviceId: d.deviceId, events: await chain(d.deviceId, null, 2) });
    const [h, p] = a.split('.');
    await expectRefused('L-10', d, () => post(`${h}.${p}.${b.split('.')[2]}`), 'signature_invalid');
  });

  it('L-10 an approval token (same key, approval typ) offered as a log batch → 403 typ_invalid', async () => {
    const d = await v.enroll('alice');
    const { token } = await v.mint(d);
    await expectRefused('L-10', d, () => post(token), 'typ_invalid');
  });

  it('L-11 the same events with other key order and spacing in the signed payload → the same hashes: acknowledged once, stored once', async () => {
    const d = await v.enroll('alice');
    const events = await chain(d.deviceId, null, 3);
    expect(await send(d, events)).toMatchObject({ status: 200, ackedSeq: 3 });
    // Members reversed and pretty-printed: RFC 8785 makes the hash independent of both.
    const reordered = events.map((e) => Object.fromEntries(Object.entries(e).reverse()));
    const text = JSON.stringify({ events: reordered, deviceId: d.deviceId }, null, 2);
    const jws = await signCompactJws(d.privateKey, { typ: 'countersign-log+jwt', kid: d.kid }, JSON.parse(text) as Record<string, unknown>);
    expect(await post(jws)).toMatchObject({ status: 200, ackedSeq: 3 });
    expect(await stored(d)).toHaveLength(3);
    for (const e of events) expect(await hashEvent(JSON.parse(canonicalJson(Object.fromEntries(Object.entries(e).reverse()))) as LogEvent)).toBe(e.hash);
  });

  it('L-13 timestamps going backwards and far in the future are accepted as they are; the chain is kept by seq', async () => {
    const d = await v.enroll('alice');
    const trc = newTraceId();
    const times = [1_800_000_000_000, 1_700_000_000_000, 9_000_000_000_000, 0];
    const events = await chain(d.deviceId, null, 4, { ts: (i) => times[i]!, trc });
    expect(await send(d, events)).toMatchObject({ status: 200, ackedSeq: 4 });
    expect((await stored(d)).map((e) => e.hash)).toEqual(events.map((e) => e.hash));
    // The next batch continues by seq and prev, whatever the clock said.
    expect(await send(d, await chain(d.deviceId, headOf(events[3]!), 1, { ts: () => 1 }))).toMatchObject({ status: 200, ackedSeq: 5 });
    const found = (await v.admin('GET', `/v1/admin/events?trace=${trc}`)).json() as { events: LogEvent[] };
    expect(found.events.map((e) => e.ts).sort()).toEqual([...times].sort());
  });

  it.each([
    ['more than 500 events', 'token_malformed', (d: Device) => chain(d.deviceId, null, 501).then((events) => signCompactJws(d.privateKey, { typ: 'countersign-log+jwt', kid: d.kid }, { deviceId: d.deviceId, events }))],
    ['an unknown event type', 'token_malformed', async (d: Device) => {
      const [e] = await chain(d.deviceId, null, 1);
      return signCompactJws(d.privateKey, { typ: 'countersign-log+jwt', kid: d.kid }, { deviceId: d.deviceId, events: [{ ...e!, type: 'wiped' }] });
    }],
    ['an unknown member in an event', 'token_malformed', async (d: Device) => {
      const [e] = await chain(d.deviceId, null, 1);
      return signCompactJws(d.privateKey, { typ: 'countersign-log+jwt', kid: d.kid }, { deviceId: d.deviceId, events: [{ ...e!, admin: true }] });
    }],
    ['an empty batch', 'token_malformed', (d: Device) => signCompactJws(d.privateKey, { typ: 'countersign-log+jwt', kid: d.kid }, { deviceId: d.deviceId, events: [] })],
    ['a body over the 4 MiB limit', 'payload_too_large', async (d: Device) => {
      const [e] = await chain(d.deviceId, null, 1);
      return signCompactJws(d.privateKey, { typ: 'countersign-log+jwt', kid: d.kid }, { deviceId: d.deviceId, events: [{ ...e!, detail: { blob: 'x'.repeat(5 * 1024 * 1024) } }] });
    }],
    ['a detail nested 5,000 deep (a signed insider batch; once a 503 from a stack overflow)', 'token_malformed', async (d: Device) => {
      const [e] = await chain(d.deviceId, null, 1);
      const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
      const payload = JSON.stringify({ deviceId: d.deviceId, events: [{ ...e!, detail: null }] }).replace('"detail":null', `"detail":${deep}`);
      const h = encodeBase64url(JSON.stringify({ alg: 'ES256', typ: 'countersign-log+jwt', kid: d.kid }));
      const p = encodeBase64url(payload);
      const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, d.privateKey, new TextEncoder().encode(`${h}.${p}`));
      return `${h}.${p}.${encodeBase64url(new Uint8Array(sig))}`;
    }],
  ] as const)('L-15 %s → %s, nothing stored', async (_name, code, make) => {
    const d = await v.enroll('alice');
    const jws = await make(d);
    await expectRefused('L-15', d, () => post(jws), code);
    // The chain is untouched: a good batch still starts at seq 1.
    expect(await send(d, await chain(d.deviceId, null, 1))).toMatchObject({ status: 200, ackedSeq: 1 });
  });

  it('L-15 one bad event among good ones refuses the whole batch (never partially applied)', async () => {
    const d = await v.enroll('alice');
    const events = await chain(d.deviceId, null, 3);
    const bad = { ...events[2]!, id: 'x'.repeat(10_000) };
    await expectRefused('L-15', d, async () => post(await signCompactJws(d.privateKey, { typ: 'countersign-log+jwt', kid: d.kid }, { deviceId: d.deviceId, events: [events[0]!, events[1]!, bad] })), 'token_malformed');
  });
});
