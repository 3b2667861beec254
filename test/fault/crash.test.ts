// R-01…R-06 under kill -9: the verifier process is killed at a random moment while it ingests log
// batches and verifies tokens; after each restart every acknowledged event is there exactly once,
// the chain is intact, every allowed token is refused on replay, and SQLite's integrity check passes.
// FAULT_ITERATIONS sets how many crashes (3 in npm test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { appendEvent, exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, newTraceId, signLogBatch, verifyChain } from '@/lib/protocol';
import type { ChainHead, LogEvent } from '@/lib/protocol';
import { startVerifierProcess } from '../helpers/processes';
import { recordFaults } from '../helpers/tally';

const ITERATIONS = Number(process.env.FAULT_ITERATIONS ?? 3);
const ADMIN = 'crash-admin-token-0123456789';
const REQUEST = { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/1/replies', contentType: 'application/json', body: '{"body":"crash me","author_kind":"assistant"}' };
const dir = mkdtempSync(join(tmpdir(), 'cs-crash-'));
const file = join(dir, 'verifier.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start() {
  return startVerifierProcess({ DATABASE_URL: `sqlite:${file}`, COUNTERSIGN_ADMIN_TOKEN: ADMIN });
}

describe('kill -9 under load (SQLite)', () => {
  it(`${ITERATIONS} crashes: nothing acknowledged is lost, duplicated or reopened`, async () => {
    let verifier = await start();
    const pair = await generateEs256KeyPair();
    const admin = (method: string, path: string, body: unknown) => fetch(`${verifier.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const { code } = (await (await admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json()) as { code: string };
    await admin('PUT', '/v1/admin/agents/agent:crash', { owner: 'alice', scopes: ['forum.post'], sites: ['http://127.0.0.1:8080'] });
    const device = (await (await fetch(`${verifier.url}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, publicKeyJwk: await exportEs256PublicJwk(pair.publicKey), label: 'crash' }) })).json()) as { kid: string; deviceId: string };

    let head: ChainHead | null = null;
    let pending: { jws: string; last: LogEvent } | null = null;
    let ackedSeq = 0;
    const allowed: string[] = [];
    let faults = 0;

    async function nextBatch(): Promise<{ jws: string; last: LogEvent }> {
      if (pending) return pending;
      const events: LogEvent[] = [];
      for (let i = 0; i < 50; i++) {
        const e: LogEvent = await appendEvent(head, { deviceId: device.deviceId, epoch: 1 }, { id: crypto.randomUUID(), ts: Date.now(), type: 'held', trc: newTraceId(), principal: null, agent: 'agent:crash', tool: 't', site: null, digest: null, diff: null, detail: null });
        events.push(e);
        head = e;
      }
      pending = { jws: await signLogBatch(pair.privateKey, device.kid, { deviceId: device.deviceId, events }), last: events.at(-1)! };
      return pending;
    }

    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const allowedBefore = allowed.length;
      // Past the boot second (tokens issued before it are refused): the next whole second after the
      // restart returned is enough, since the process booted before it answered /v1/status.
      await new Promise((r) => setTimeout(r, 1005 - (Date.now() % 1000)));
      let running = true;
      const ingest = (async () => {
        while (running) {
          const batch = await nextBatch();
          const res = await fetch(`${verifier.url}/v1/log/batch`, { method: 'POST', headers: { 'content-type': 'application/jose' }, body: batch.jws }).catch(() => null);
          if (!res) return;
          expect(res.status).toBe(200);
          ackedSeq = batch.last.seq;
          pending = null;
        }
      })();
      const verifies = (async () => {
        while (running) {
          const { token } = await mintApprovalToken({ privateKey: pair.privateKey, kid: device.kid, deviceId: device.deviceId, userId: 'alice', request: REQUEST, agent: 'agent:crash', scope: 'forum.post', traceId: newTraceId() });
          const res = await fetch(`${verifier.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, request: REQUEST, scope: 'forum.post' }) }).catch(() => null);
          if (!res) return;
          if (res.status === 200) allowed.push(token);
        }
      })();
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 700));
      await verifier.kill();
      faults++;
      running = false;
      await Promise.all([ingest, verifies]);

      verifier = await start();
      // every acknowledged event present once, the chain intact from genesis.
      let lost = 0;
      const db = new Database(file, { readonly: true });
      try {
        const rows = db.prepare('select event from log_events where device_id = ? order by epoch, seq').all(device.deviceId) as Array<{ event: string }>;
        const events = rows.map((r) => JSON.parse(r.event) as LogEvent);
        const present = new Set(events.map((e) => e.seq));
        for (let seq = 1; seq <= ackedSeq; seq++) if (!present.has(seq)) lost++;
        expect(present.size).toBe(events.length);
        await expect(verifyChain(device.deviceId, events)).resolves.toBeDefined();
        //
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        db.close();
      }
      // no allowed token is ever accepted again: those allowed since the last crash, and the 20 before.
      const reopened: string[] = [];
      for (const token of allowed.slice(Math.max(0, allowedBefore - 20))) {
        const res = await fetch(`${verifier.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, request: REQUEST, scope: 'forum.post' }) });
        if (res.status === 200) reopened.push(token);
      }
      recordFaults(`kill -9 #${iteration + 1} under log ingest and verify load (R-01…R-06)`, 1, lost + reopened.length);
      expect(lost, 'acknowledged events missing after the crash').toBe(0);
      expect(reopened, 'allowed tokens accepted again after the crash').toEqual([]);
    }
    await verifier.stop();
    console.log(`faults: ${faults} injected (kill -9), acknowledged events: ${ackedSeq}, allowed tokens: ${allowed.length}, lost: 0, reopened: 0`);
    expect(ackedSeq).toBeGreaterThan(0);
    expect(allowed.length).toBeGreaterThan(0);
  }, 60_000 + ITERATIONS * 20_000);
});
