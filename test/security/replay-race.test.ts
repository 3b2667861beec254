// A-02 across processes: two verifier processes share one PostgreSQL (or one SQLite file); 30
// concurrent uses of one token, split between them, give exactly one allow. The unique (iss, jti) key
// decides, not memory. The same for a two-person action: 30 requests carrying overlapping pairs of
// three people's tokens, split between the processes, give exactly one allow.
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

  it('attack: 30 requests with overlapping pairs of a two-person action\'s tokens, across both processes → exactly one allow, none half-consumed', async () => {
    const statuses = await quorumRace(verifiers, 'Q-04 30 overlapping token pairs across two verifier processes on one PostgreSQL');
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

  it('attack: 30 requests with overlapping pairs of a two-person action\'s tokens, across both processes → exactly one allow, none half-consumed', async () => {
    const statuses = await quorumRace(verifiers, 'Q-04 30 overlapping token pairs across two verifier processes on one SQLite file');
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

const QUORUM_POLICY = `
@id("owner") permit (principal, action == Action::"approve", resource is Agent) when { resource.owner == principal };
@id("reviewers") permit (principal is User, action == Action::"approve", resource is Agent) when { ["bob", "carol"].contains(context.sub) };
@id("two") @approvers("2") permit (principal, action == Action::"quorum", resource) when { context.scope == "admin.acl.write" };
`;
const ACL_REQUEST = { method: 'PUT', url: 'http://127.0.0.1:8081/api/acl/payroll', contentType: 'application/json', body: '{"visibility":"all-employees"}' };

/**
 * Three people approve one two-person action; 30 requests carry the pairs (a,b), (a,c), (b,c) in turn,
 * alternating processes. Exactly one may pass: whichever pair wins, every other pair shares a token
 * with it. A pair refused must consume none of its tokens — checked by the survivor afterwards: the
 * winner's two tokens are spent, the third is not (a fresh pair with it passes).
 */
async function quorumRace(verifiers: VerifierProcess[], source: string): Promise<number[]> {
  const a = verifiers[0]!;
  const b = verifiers[1]!;
  const admin = (method: string, path: string, body: unknown) => fetch(`${a.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  // Put on each process: each then holds it at once (a replica otherwise picks it up on its next reload).
  for (const v of verifiers) {
    const put = await fetch(`${v.url}/v1/admin/policy`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: QUORUM_POLICY }) });
    expect(put.status).toBe(200);
  }
  await admin('PUT', '/v1/admin/agents/agent:access-racer', { owner: 'alice', scopes: ['admin.acl.write'], sites: ['http://127.0.0.1:8081'] });
  const people: { userId: string; pair: CryptoKeyPair; enrolled: { kid: string; deviceId: string } }[] = [];
  for (const userId of ['alice', 'bob', 'carol']) {
    const { code } = (await (await admin('POST', '/v1/admin/enrollment-codes', { userId })).json()) as { code: string };
    const pair = await generateEs256KeyPair();
    const enrolled = (await (await fetch(`${a.url}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, publicKeyJwk: await exportEs256PublicJwk(pair.publicKey), label: userId }) })).json()) as { kid: string; deviceId: string };
    people.push({ userId, pair, enrolled });
  }
  // Tokens issued in either process's boot second are refused: start after both booted.
  await new Promise((r) => setTimeout(r, 1100));
  const traceId = newTraceId();
  const mint = (p: (typeof people)[number]) =>
    mintApprovalToken({ privateKey: p.pair.privateKey, kid: p.enrolled.kid, deviceId: p.enrolled.deviceId, userId: p.userId, request: ACL_REQUEST, agent: 'agent:access-racer', scope: 'admin.acl.write', traceId }).then((t) => t.token);
  const tokens = await Promise.all(people.map(mint));
  const pairs = [[0, 1], [0, 2], [1, 2]] as const;
  const send = (v: VerifierProcess, pair: readonly number[]) =>
    fetch(`${v.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tokens: pair.map((i) => tokens[i]), request: ACL_REQUEST, scope: 'admin.acl.write' }) });
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => send(i % 2 ? b : a, pairs[i % 3]!)));
  const statuses = results.map((r) => r.status);
  const winner = await Promise.all(results.map((r) => r.json() as Promise<{ allow?: boolean }>)).then((bodies) => bodies.findIndex((x) => x.allow === true));
  recordAttacks(source, 30, Math.max(0, statuses.filter((s) => s === 200).length - 1));
  if (winner >= 0) {
    // The one token outside the winning pair is unspent: with a fresh token of one of the winners it passes.
    const used = pairs[winner % 3]!;
    const spare = [0, 1, 2].find((i) => !used.includes(i as never))!;
    const fresh = await mint(people[used[0]]!);
    const after = await fetch(`${a.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tokens: [fresh, tokens[spare]], request: ACL_REQUEST, scope: 'admin.acl.write' }) });
    expect(after.status).toBe(200);
  }
  return statuses;
}
