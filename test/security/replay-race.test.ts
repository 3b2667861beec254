// A-02 across processes: two verifier processes share one PostgreSQL (or one SQLite file); 30
// concurrent uses of one token, split between them, give exactly one allow. The unique (iss, jti) key
// decides, not memory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, newTraceId } from '@/lib/protocol';
import { createTestDatabase } from '../helpers/postgres';
import type { TestDatabase } from '../helpers/postgres';
import { startVerifierProcess } from '../helpers/processes';
import { recordAttacks } from '../helpers/tally';
import type { VerifierProcess } from '../helpers/processes';

const ADMIN = 'race-admin-token-0123456789';
const REQUEST = { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/1/replies', contentType: 'application/json', body: '{"body":"Race me.","author_kind":"assistant"}' };

describe('A-02: replay race across two verifier processes on one PostgreSQL', () => {
  let database: TestDatabase;
  const verifiers: VerifierProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('race');
    // One after the other: both run the migrations; the second finds them done.
    const env = { DATABASE_URL: database.url, COUNTERSIGN_ADMIN_TOKEN: ADMIN };
    verifiers.push(await startVerifierProcess(env));
    verifiers.push(await startVerifierProcess(env));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(verifiers.map((v) => v.stop()));
    await database.drop();
  });

  it('30 concurrent uses of one token, across both processes → exactly one allow, 29 replayed', async () => {
    const statuses = await race(verifiers, 'A-02 30 concurrent uses across two verifier processes on one PostgreSQL');
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(29);
  }, 60_000);
});

describe('A-02: replay race across two verifier processes on one SQLite file (WAL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-race-'));
  const verifiers: VerifierProcess[] = [];

  beforeAll(async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'verifier.db')}`, COUNTERSIGN_ADMIN_TOKEN: ADMIN };
    verifiers.push(await startVerifierProcess(env));
    verifiers.push(await startVerifierProcess(env));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(verifiers.map((v) => v.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('30 concurrent uses of one token, across both processes → exactly one allow, 29 replayed', async () => {
    const statuses = await race(verifiers, 'A-02 30 concurrent uses across two verifier processes on one SQLite file');
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(29);
  }, 60_000);
});

/** Enrolls alice on the first process, mints one token, and sends it 30 times at once, alternating processes. */
async function race(verifiers: VerifierProcess[], source: string): Promise<number[]> {
    const a = verifiers[0]!;
    const b = verifiers[1]!;
    const admin = (path: string, body: unknown) => fetch(`${a.url}${path}`, { method: path.includes('agents') ? 'PUT' : 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const { code } = (await (await admin('/v1/admin/enrollment-codes', { userId: 'alice' })).json()) as { code: string };
    await admin('/v1/admin/agents/agent:racer', { owner: 'alice', scopes: ['forum.post'], sites: ['http://127.0.0.1:8080'] });
    const pair = await generateEs256KeyPair();
    const enrolled = (await (await fetch(`${a.url}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, publicKeyJwk: await exportEs256PublicJwk(pair.publicKey), label: 'race' }) })).json()) as { kid: string; deviceId: string };
    // Tokens issued in either process's boot second are refused: start after both booted.
    await new Promise((r) => setTimeout(r, 1100));
    const { token } = await mintApprovalToken({ privateKey: pair.privateKey, kid: enrolled.kid, deviceId: enrolled.deviceId, userId: 'alice', request: REQUEST, agent: 'agent:racer', scope: 'forum.post', traceId: newTraceId() });

    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => fetch(`${(i % 2 ? b : a).url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, request: REQUEST, scope: 'forum.post' }) })),
    );
    const statuses = results.map((r) => r.status);
    const allowed = statuses.filter((s) => s === 200).length;
    recordAttacks(source, 30, Math.max(0, allowed - 1));
    return statuses;
}
