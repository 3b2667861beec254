// Issue 20, "Several replicas": three verifier processes on one PostgreSQL behind a real HAProxy
// (test/helpers/replicas.ts). One token raced at all three gives one allow; a replica killed with
// SIGKILL under load loses no acknowledged decision and lets no token through twice, the balancer
// retrying what met the dead one (a retry of a request the dead replica had already committed comes
// back `replayed`, never a second allow). Also what one replica changes and the others must see at
// once: a device enrolled through one, a policy replaced through one, a receipt key rotated through one.
// Node only (tests).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, newTraceId } from '@/lib/protocol';
import { createTestDatabase } from '../helpers/postgres';
import type { TestDatabase } from '../helpers/postgres';
import { startVerifierProcess } from '../helpers/processes';
import { startReplicas } from '../helpers/replicas';
import type { ReplicaSet } from '../helpers/replicas';
import { recordAttacks, recordFaults } from '../helpers/tally';

const ADMIN = 'replicas-admin-token-0123456789';
const AGENT = 'agent:replicas';
const SCOPE = 'forum.post';
const REQUEST = { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/1/replies', contentType: 'application/json', body: '{"body":"Balanced.","author_kind":"assistant"}' };
const REPLICAS = 3;

interface Answer {
  status: number;
  code: string | undefined;
  /** The server HAProxy answered from (replica_0 …), or 'direct'. */
  replica: string;
  receipt: string | undefined;
}

describe('three verifier replicas on one PostgreSQL behind HAProxy', () => {
  let database: TestDatabase;
  let set: ReplicaSet;
  let pool: pg.Pool;
  let device: { kid: string; deviceId: string; privateKey: CryptoKey };

  beforeAll(async () => {
    database = await createTestDatabase('replicas');
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    set = await startReplicas(REPLICAS, () => startVerifierProcess({ DATABASE_URL: database.url, COUNTERSIGN_ADMIN_TOKEN: ADMIN }));
    // Enrolled and registered through the balancer: whichever replica took it, all must honour it.
    const { code } = (await (await admin(set.url, 'POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json()) as { code: string };
    expect((await admin(set.url, 'PUT', `/v1/admin/agents/${AGENT}`, { owner: 'alice', scopes: [SCOPE], sites: ['http://127.0.0.1:8080'] })).status).toBe(200);
    const pair = await generateEs256KeyPair();
    const res = await fetch(`${set.url}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, publicKeyJwk: await exportEs256PublicJwk(pair.publicKey), label: 'replicas' }) });
    expect(res.status).toBe(201);
    device = { ...((await res.json()) as { kid: string; deviceId: string }), privateKey: pair.privateKey };
    // Tokens issued in a replica's boot second are refused (its boot epoch): start after all booted.
    await new Promise((r) => setTimeout(r, 1100));
  }, 60_000);

  afterAll(async () => {
    await set?.stop();
    await pool?.end();
    await database?.drop();
  });

  const mint = async () => {
    const traceId = newTraceId();
    const { token } = await mintApprovalToken({ privateKey: device.privateKey, kid: device.kid, deviceId: device.deviceId, userId: 'alice', request: REQUEST, agent: AGENT, scope: SCOPE, traceId });
    return { token, traceId };
  };

  it('a device enrolled through the balancer is honoured by each replica on its own', async () => {
    for (const replica of set.replicas) {
      const answer = await verify(replica.url, (await mint()).token);
      expect(answer.status, replica.url).toBe(200);
    }
  });

  it('attack: replaying one token at 30 concurrent requests spread over the 3 replicas → one allow, 29 replayed', async () => {
    const { token } = await mint();
    const answers = await Promise.all(Array.from({ length: 30 }, () => verify(set.url, token)));
    const allowed = answers.filter((a) => a.status === 200);
    recordAttacks('replicas: one token at 30 concurrent requests over 3 replicas behind HAProxy', 30, Math.max(0, allowed.length - 1));
    expect(allowed).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409 && a.code === 'replayed')).toHaveLength(29);
    // The race really was across processes: HAProxy spread the requests over all three.
    expect(new Set(answers.map((a) => a.replica))).toEqual(new Set(Array.from({ length: REPLICAS }, (_, i) => `replica_${i}`)));
  });

  // PUT /v1/admin/policy lands in one process; every replica reads the active policy's version before
  // each decision (server/registry-state.ts), so a policy taking a permission away counts everywhere at
  // once. (It once counted only where it was PUT, elsewhere after a 30-s reload.)
  it('attack: approving on another replica right after a policy taking the permission away was made active on one', async () => {
    const first = set.replicas[0]!;
    const last = set.replicas[REPLICAS - 1]!;
    const before = (await (await admin(first.url, 'GET', '/v1/admin/policy')).json()) as { text: string };
    try {
      const put = await admin(first.url, 'PUT', '/v1/admin/policy', { text: '@id("nobody") forbid (principal, action, resource);\n@id("owner") permit (principal, action, resource);' });
      expect(put.status).toBe(200);
      expect((await verify(first.url, (await mint()).token)).code, 'the replica that took the new policy').toBe('approver_not_authorized');
      const elsewhere = await Promise.all(set.replicas.slice(1).map(async (r) => verify(r.url, (await mint()).token)));
      recordAttacks('replicas: approvals on the other replicas right after a policy forbidding them was made active on one', elsewhere.length, elsewhere.filter((a) => a.status === 200).length);
      expect(elsewhere.map((a) => a.code), 'the other replicas').toEqual(elsewhere.map(() => 'approver_not_authorized'));
    } finally {
      // Back to the policy before, through one replica: the others read it on their next request.
      expect((await admin(last.url, 'PUT', '/v1/admin/policy', { text: before.text })).status).toBe(200);
      expect((await verify(first.url, (await mint()).token)).status, 'the first replica, after the policy was put back elsewhere').toBe(200);
    }
  });

  // POST /v1/admin/receipt-keys/rotate retires the old key in the database; every replica reads the active
  // key's id before each decision, so none signs with a retired key (it once did until restarted).
  it('a receipt key rotated through one replica is the key every replica signs with from the next request', async () => {
    const first = set.replicas[0]!;
    const last = set.replicas[REPLICAS - 1]!;
    const rotated = await admin(first.url, 'POST', '/v1/admin/receipt-keys/rotate');
    expect(rotated.status).toBe(200);
    const { kid } = (await rotated.json()) as { kid: string };
    const here = await verify(first.url, (await mint()).token);
    expect(receiptKid(here.receipt), 'the replica that rotated').toBe(kid);
    const elsewhere = await verify(last.url, (await mint()).token);
    expect(elsewhere.status).toBe(200);
    expect(receiptKid(elsewhere.receipt), 'another replica').toBe(kid);
  });

  it('fault: one replica SIGKILLed under load → every acknowledged allow is durable, no token allowed twice, the balancer retries the rest', async () => {
    const VICTIM = 1;
    const WORKERS = 6;
    const KILL_AFTER = 90;
    const AFTER_DOWN = 90;
    const outcomes: Array<Answer & { token: string; traceId: string; afterDown: boolean }> = [];
    let down = false;
    let answeredAfterDown = 0;
    let killed: Promise<void> | undefined;

    const worker = async () => {
      while (!down || answeredAfterDown < AFTER_DOWN) {
        const { token, traceId } = await mint();
        // Each token is sent once by the client: a second answer for it can only be the balancer's retry.
        const wasDown = down;
        const answer = await verify(set.url, token).catch((error: unknown) => ({ status: 0, code: String(error), replica: 'none', receipt: undefined }));
        outcomes.push({ ...answer, token, traceId, afterDown: wasDown });
        if (wasDown) answeredAfterDown++;
        if (outcomes.length === KILL_AFTER) {
          killed = set.kill(VICTIM).then(() => set.balancer.waitUntilDown(VICTIM)).then(() => {
            down = true;
          });
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    await killed;

    const allowed = outcomes.filter((o) => o.status === 200);
    // Replayed although the client sent the token once: the dead replica committed it, died before
    // answering, and HAProxy retried it on another. Correct (fail closed), and counted.
    const committedThenRetried = outcomes.filter((o) => o.status === 409 && o.code === 'replayed');
    const failed = outcomes.filter((o) => o.status !== 200 && !(o.status === 409 && o.code === 'replayed'));
    console.log(
      `[replicas] ${outcomes.length} requests: ${allowed.length} allowed, ${committedThenRetried.length} replayed after a retry of a request the killed replica had committed, ${failed.length} failed` +
        (failed.length ? ` (${[...new Set(failed.map((f) => `${f.status} ${f.code}`))].join('; ')})` : ''),
    );

    // What the database holds for every trace the client used.
    const rows = await pool.query<{ trace_id: string; allows: string }>("SELECT trace_id, count(*) AS allows FROM decisions WHERE code = 'allow' AND trace_id = ANY($1) GROUP BY trace_id", [outcomes.map((o) => o.traceId)]);
    const allowsOf = new Map(rows.rows.map((r) => [r.trace_id, Number(r.allows)]));
    const consumed = await pool.query<{ jti: string }>('SELECT jti FROM consumed WHERE iss = $1 AND jti = ANY($2)', [device.deviceId, outcomes.map((o) => jtiOf(o.token))]);
    const consumedJtis = new Set(consumed.rows.map((r) => r.jti));

    // Acknowledged means durable: its allow record and its consumed jti are in PostgreSQL, and using
    // the token again through the balancer is refused as a replay.
    // As many at once as the workers sent (a burst of hundreds would only measure the balancer's patience).
    const reuse: Answer[] = [];
    for (let i = 0; i < allowed.length; i += WORKERS) reuse.push(...(await Promise.all(allowed.slice(i, i + WORKERS).map((o) => verify(set.url, o.token)))));
    const lost = allowed
      .map((o, i) => ({ traceId: o.traceId, replica: o.replica, allows: allowsOf.get(o.traceId) ?? 0, consumed: consumedJtis.has(jtiOf(o.token)), reuse: `${reuse[i]!.status} ${reuse[i]!.code}` }))
      .filter((o) => o.allows !== 1 || !o.consumed || o.reuse !== '409 replayed');
    const twice = [...allowsOf.values()].filter((n) => n > 1).length;
    recordFaults('replicas: one of 3 replicas SIGKILLed under load behind HAProxy', 1, lost.length, twice);

    expect(lost).toEqual([]);
    expect(twice).toBe(0);
    expect(reuse.every((r) => r.status === 409 && r.code === 'replayed')).toBe(true);
    // A replay answer for a token the client sent once is explained by the database: some replica committed it.
    for (const o of committedThenRetried) expect(allowsOf.get(o.traceId), o.traceId).toBe(1);
    // The balancer retried whatever met the dead replica: no request failed.
    expect(failed).toEqual([]);
    // The dead replica served before the kill and, once HAProxy marked it down, nothing more.
    expect(outcomes.some((o) => o.replica === `replica_${VICTIM}`)).toBe(true);
    expect(outcomes.filter((o) => o.afterDown && o.replica === `replica_${VICTIM}`)).toEqual([]);
    expect(outcomes.filter((o) => o.afterDown && o.status === 200).length).toBeGreaterThan(0);
    expect((await set.balancer.serverStatus())[VICTIM]).toMatch(/^DOWN/);
  }, 60_000);
});

function admin(url: string, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` };
  if (body === undefined) return fetch(`${url}${path}`, { method, headers });
  return fetch(`${url}${path}`, { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function verify(url: string, token: string): Promise<Answer> {
  const res = await fetch(`${url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, request: REQUEST, scope: SCOPE }) });
  const body = (await res.json().catch(() => ({}))) as { receipt?: string; error?: { code?: string } };
  return { status: res.status, code: body.error?.code, replica: res.headers.get('x-countersign-replica') ?? 'direct', receipt: body.receipt };
}

function jtiOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string }).jti;
}

function receiptKid(receipt: string | undefined): string | undefined {
  if (!receipt) return undefined;
  return (JSON.parse(Buffer.from(receipt.split('.')[0]!, 'base64url').toString('utf8')) as { kid?: string }).kid;
}
