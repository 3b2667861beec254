// Device-signed log batches: the JWS rules of tokens applied to `countersign-log+jwt` (L-10, L-15).
import { describe, expect, it } from 'vitest';
import { signCompactJws } from '@/lib/protocol/compact-jws';
import { appendEvent } from '@/lib/protocol/log-chain';
import type { LogEvent } from '@/lib/protocol/log-chain';
import { signLogBatch, verifyLogBatch } from '@/lib/protocol/log-batch';
import { makeWorld } from '../../helpers/approval-world';

async function events(deviceId: string, n: number): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  let head = null;
  for (let i = 1; i <= n; i++) {
    const e: LogEvent = await appendEvent(head, { deviceId, epoch: 1 }, {
      id: `e${i}`, ts: i, type: 'held', trc: null, principal: null, agent: null, tool: null, site: null, digest: null, diff: null, detail: null,
    });
    out.push(e);
    head = e;
  }
  return out;
}

describe('log batches', () => {
  it('a batch signed by the device key verifies and yields its events', async () => {
    const w = await makeWorld();
    const batch = await signLogBatch(w.pair.privateKey, w.kid, { deviceId: 'dev-1', events: await events('dev-1', 3) });
    const { payload, key } = await verifyLogBatch(batch, (kid) => (kid === w.kid ? w.key : undefined));
    expect(payload.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(key.deviceId).toBe('dev-1');
  });

  it('L-10: a batch signed by another device\'s key (claiming dev-1) → key_unknown', async () => {
    const w = await makeWorld();
    const other = await makeWorld();
    const batch = await signLogBatch(other.pair.privateKey, other.kid, { deviceId: 'dev-1', events: await events('dev-1', 1) });
    const lookup = (kid: string) => (kid === other.kid ? { ...other.key, deviceId: 'dev-2' } : kid === w.kid ? w.key : undefined);
    await expect(verifyLogBatch(batch, lookup)).rejects.toMatchObject({ code: 'key_unknown' });
  });

  it('L-10: a revoked key → key_revoked', async () => {
    const w = await makeWorld();
    const batch = await signLogBatch(w.pair.privateKey, w.kid, { deviceId: 'dev-1', events: await events('dev-1', 1) });
    await expect(verifyLogBatch(batch, () => ({ ...w.key, revoked: true }))).rejects.toMatchObject({ code: 'key_revoked' });
  });

  it('L-10: a batch whose signature covers other content → signature_invalid', async () => {
    const w = await makeWorld();
    const batch = await signLogBatch(w.pair.privateKey, w.kid, { deviceId: 'dev-1', events: await events('dev-1', 2) });
    const other = await signLogBatch(w.pair.privateKey, w.kid, { deviceId: 'dev-1', events: await events('dev-1', 1) });
    const [h, p] = batch.split('.');
    const spliced = `${h}.${p}.${other.split('.')[2]}`;
    await expect(verifyLogBatch(spliced, () => w.key)).rejects.toMatchObject({ code: 'signature_invalid' });
  });

  it('an approval token offered as a log batch → typ_invalid', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    await expect(verifyLogBatch(token, () => w.key)).rejects.toMatchObject({ code: 'typ_invalid' });
  });

  it.each([
    ['an unknown event type', (e: LogEvent) => ({ ...e, type: 'deleted' })],
    ['an extra field', (e: LogEvent) => ({ ...e, extra: 1 })],
    ['a missing field', ({ ts: _ts, ...e }: LogEvent) => e],
    ['seq 0', (e: LogEvent) => ({ ...e, seq: 0 })],
  ])('L-15: %s → token_malformed, the whole batch refused', async (_name, mangle) => {
    const w = await makeWorld();
    const [first, second] = await events('dev-1', 2);
    const batch = await signCompactJws(w.pair.privateKey, { typ: 'countersign-log+jwt', kid: w.kid }, { deviceId: 'dev-1', events: [first, mangle(second!)] });
    await expect(verifyLogBatch(batch, () => w.key)).rejects.toMatchObject({ code: 'token_malformed' });
  });

  it('L-15: more than 500 events → refused', async () => {
    const w = await makeWorld();
    const many = await events('dev-1', 501);
    const batch = await signCompactJws(w.pair.privateKey, { typ: 'countersign-log+jwt', kid: w.kid }, { deviceId: 'dev-1', events: many });
    await expect(verifyLogBatch(batch, () => w.key)).rejects.toMatchObject({ code: 'token_malformed' });
  });
});
