// The organisation policy from the verifier, as the extension fetches and keeps it: a device proof
// (checked here with the protocol's verifyDeviceProof against the device key) and If-None-Match on
// every fetch; the last good copy kept across restarts, and kept when the verifier is unreachable,
// refuses, or answers garbage; a 304 keeps it; a managed "off" sends nothing. Against a stubbed
// fetch, then against a real verifier in process.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { deviceKey } from '@/lib/extension/device-key';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import { enroll } from '@/lib/extension/enrollment';
import { ORGANISATION_POLICY_KEY, heldOrganisationPolicy, readOrganisationPolicy, refreshOrganisationPolicy } from '@/lib/extension/organisation-policy';
import { importEs256PublicJwk, verifyDeviceProof } from '@/lib/protocol';
import { PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

const VERIFIER = 'https://verifier.corp.example';
const POLICY_URL = `${VERIFIER}/v1/extension-policy`;
const NOW = 1_800_000_000_000;
const DOC = { protectedSites: ['http://127.0.0.1:8080/*'], approvalTtlSeconds: 90 };

let dbName: string;
beforeEach(() => {
  dbName = `cs-org-${crypto.randomUUID()}`;
  useDatabase(new CountersignDb(dbName));
});

async function enrolled(verifierUrl = VERIFIER) {
  const key = await deviceKey();
  await db().enrollment.put({ id: 'current', verifierUrl, deviceId: 'device-1', userId: 'alice', kid: key.kid, label: 'test', enrolledAt: NOW });
  return key;
}

interface Sent {
  url: string;
  init: RequestInit;
  headers: Headers;
}

/** A fetch that records each request and answers from `answer` (a Response, or a thrown error). */
function stubFetch(answer: (sent: Sent, n: number) => Response | Promise<Response>) {
  const sent: Sent[] = [];
  const fn = vi.fn(async (input: string | URL | Request, init: RequestInit = {}) => {
    const s = { url: String(input), init, headers: new Headers(init.headers) };
    sent.push(s);
    return answer(s, sent.length);
  });
  return Object.assign(fn as unknown as typeof fetch, { sent, spy: fn });
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const version = (v: number, policy: unknown = DOC) => json({ version: v, policy, updatedAt: NOW - 1000 }, 200, { etag: `"${v}"` });

describe('fetching the organisation policy', () => {
  it('sends a device proof for GET <enrolled verifier>/v1/extension-policy that verifies against the device key, and keeps the answer', async () => {
    const key = await enrolled();
    const fetchFn = stubFetch(() => version(3));
    const result = await refreshOrganisationPolicy({ enabled: true, fetchFn, now: NOW });
    expect(result).toMatchObject({ changed: true, fetched: true });
    expect(fetchFn.sent).toHaveLength(1);
    const [req] = fetchFn.sent;
    expect(req!.url).toBe(POLICY_URL);
    expect(req!.init).toMatchObject({ method: 'GET', cache: 'no-store' });
    // No copy yet: nothing to match.
    expect(req!.headers.has('if-none-match')).toBe(false);
    const publicKey = await importEs256PublicJwk(key.publicJwk);
    const consumed: string[] = [];
    const caller = await verifyDeviceProof(req!.headers.get('authorization'), {
      lookupKey: (kid) => (kid === key.kid ? { kid, deviceId: 'device-1', userId: 'alice', revoked: false, publicKey } : undefined),
      method: 'GET',
      url: POLICY_URL,
      now: NOW / 1000,
      consume: ({ jti }) => !consumed.includes(jti) && consumed.push(jti) > 0,
    });
    expect(caller.kid).toBe(key.kid);
    expect(await heldOrganisationPolicy()).toEqual({ version: 3, updatedAt: NOW - 1000, policy: DOC });
    expect(await readOrganisationPolicy()).toMatchObject({ copy: { verifierUrl: VERIFIER, version: 3, fetchedAt: NOW }, checkedAt: NOW, error: null });
  });

  it('sends If-None-Match of the held version; a 304 keeps the copy and counts as checked; each proof is new', async () => {
    await enrolled();
    await refreshOrganisationPolicy({ enabled: true, fetchFn: stubFetch(() => version(3)), now: NOW });
    const fetchFn = stubFetch(() => new Response(null, { status: 304, headers: { etag: '"3"' } }));
    const first = await refreshOrganisationPolicy({ enabled: true, fetchFn, now: NOW + 30_000 });
    const second = await refreshOrganisationPolicy({ enabled: true, fetchFn, now: NOW + 60_000 });
    expect(fetchFn.sent.map((s) => s.headers.get('if-none-match'))).toEqual(['"3"', '"3"']);
    expect(fetchFn.sent[0]!.headers.get('authorization')).not.toBe(fetchFn.sent[1]!.headers.get('authorization'));
    expect(first.changed).toBe(false);
    expect(second.state).toMatchObject({ copy: { version: 3, fetchedAt: NOW }, checkedAt: NOW + 60_000, error: null });
  });

  it('a new version replaces the copy (changed); the same version again changes nothing', async () => {
    await enrolled();
    await refreshOrganisationPolicy({ enabled: true, fetchFn: stubFetch(() => version(3)), now: NOW });
    const next = await refreshOrganisationPolicy({ enabled: true, fetchFn: stubFetch(() => version(4, { killSwitch: true })), now: NOW + 1 });
    expect(next.changed).toBe(true);
    expect(await heldOrganisationPolicy()).toMatchObject({ version: 4, policy: { killSwitch: true } });
    const again = await refreshOrganisationPolicy({ enabled: true, fetchFn: stubFetch(() => version(4, { killSwitch: true })), now: NOW + 2 });
    expect(again.changed).toBe(false);
    expect(again.state.copy?.fetchedAt).toBe(NOW + 1);
  });

  it.each<[string, () => Response | Promise<Response>, RegExp]>([
    ['unreachable', () => Promise.reject(new TypeError('fetch failed')), /did not answer/],
    ['a refusal with the verifier\'s error code', () => json({ error: { code: 'key_revoked', message: 'key has been revoked', traceId: '0'.repeat(32) } }, 403), /key_revoked/],
    ['a 503 that is not JSON', () => new Response('Bad gateway', { status: 503 }), /HTTP 503/],
    ['not JSON', () => new Response('<html>captive portal</html>', { status: 200 }), /not an organisation policy: not valid JSON/],
    ['no version', () => json({ policy: DOC, updatedAt: null }), /version/],
    ['a negative version', () => json({ version: -1, policy: DOC, updatedAt: null }), /version/],
    ['a policy that is not an object', () => json({ version: 4, policy: ['protectedSites'], updatedAt: null }), /policy/],
    ['an unknown member', () => json({ version: 4, policy: DOC, updatedAt: null, verifierUrl: 'https://evil.example' }), /not an organisation policy/],
    ['a duplicate key', () => new Response('{"version":4,"version":5,"policy":{},"updatedAt":null}', { status: 200 }), /not an organisation policy/],
  ])('%s: the last good copy stays and the error is recorded', async (_name, answer, error) => {
    await enrolled();
    await refreshOrganisationPolicy({ enabled: true, fetchFn: stubFetch(() => version(3)), now: NOW });
    const result = await refreshOrganisationPolicy({ enabled: true, fetchFn: stubFetch(answer), now: NOW + 30_000 });
    expect(result).toMatchObject({ changed: false, fetched: true });
    expect(result.state.error).toMatch(error);
    expect(result.state).toMatchObject({ checkedAt: NOW, attemptedAt: NOW + 30_000 });
    expect(await heldOrganisationPolicy()).toEqual({ version: 3, updatedAt: NOW - 1000, policy: DOC });
    // And the next good answer clears the error.
    const ok = await refreshOrganisationPolicy({ enabled: true, fetchFn: stubFetch(() => new Response(null, { status: 304 })), now: NOW + 60_000 });
    expect(ok.state.error).toBeNull();
  });

  it('a 304 when no copy is held is an error, not a policy', async () => {
    await enrolled();
    const result = await refreshOrganisationPolicy({ enabled: true, fetchFn: stubFetch(() => new Response(null, { status: 304 })), now: NOW });
    expect(result.state).toMatchObject({ copy: null, error: expect.stringMatching(/304/) });
  });

  it('an answer whose frame is good but one adapter is not is kept: the join reports that adapter by id and fails its sites closed; the rest applies', async () => {
    await enrolled();
    const bad = { id: 'payroll', match: ['https://payroll.corp.example/*'], actions: [], posts: { container: 'article' } };
    const good = { id: 'wiki', match: ['https://wiki.corp.example/*'], actions: [] };
    await refreshOrganisationPolicy({ enabled: true, fetchFn: stubFetch(() => version(5, { protectedSites: ['https://wiki.corp.example/*'], adapters: [good, bad] })), now: NOW });
    const view = effectivePolicy({}, {}, [], await heldOrganisationPolicy());
    expect(view.policy.protectedSites).toEqual(['https://wiki.corp.example/*']);
    expect(view.policy.adapters.map((a) => a.id)).toEqual(['wiki']);
    expect(view.problems).toEqual([expect.objectContaining({ source: 'verifier', adapterId: 'payroll', field: expect.stringMatching(/^adapters\[1\]/) })]);
    expect(view.failClosed).toEqual(['https://payroll.corp.example/*']);
  });

  it('the copy survives a restart (a new database connection on the same store)', async () => {
    await enrolled();
    await refreshOrganisationPolicy({ enabled: true, fetchFn: stubFetch(() => version(3)), now: NOW });
    db().close();
    useDatabase(new CountersignDb(dbName));
    expect(await heldOrganisationPolicy()).toEqual({ version: 3, updatedAt: NOW - 1000, policy: DOC });
  });

  it('a stored row this build cannot read is no copy and says so, never a crash', async () => {
    await db().settings.put({ key: ORGANISATION_POLICY_KEY, value: { format: 2, copies: [] } });
    expect(await heldOrganisationPolicy()).toBeNull();
    expect((await readOrganisationPolicy()).error).toMatch(/could not be read/);
  });

  it('a managed verifierPolicy "off" (enabled false) sends nothing; nor does a browser that is not enrolled', async () => {
    const fetchFn = stubFetch(() => version(3));
    expect(await refreshOrganisationPolicy({ enabled: true, fetchFn, now: NOW })).toMatchObject({ fetched: false, changed: false });
    await enrolled();
    expect(await refreshOrganisationPolicy({ enabled: false, fetchFn, now: NOW })).toMatchObject({ fetched: false, changed: false });
    expect(fetchFn.spy).not.toHaveBeenCalled();
  });

  it('a copy from another verifier is not matched by version (no If-None-Match) and is replaced by the enrolled one\'s', async () => {
    await enrolled('https://old-verifier.corp.example');
    await refreshOrganisationPolicy({ enabled: true, fetchFn: stubFetch(() => version(9)), now: NOW });
    await enrolled(VERIFIER);
    const fetchFn = stubFetch(() => version(2, { strictMode: true }));
    const result = await refreshOrganisationPolicy({ enabled: true, fetchFn, now: NOW + 1 });
    expect(fetchFn.sent[0]!.headers.has('if-none-match')).toBe(false);
    expect(result).toMatchObject({ changed: true, state: { copy: { verifierUrl: VERIFIER, version: 2 } } });
  });

  it('calls at the same time (the status alarm and an opening options page) share one request', async () => {
    await enrolled();
    const fetchFn = stubFetch(() => version(3));
    const [a, b] = await Promise.all([refreshOrganisationPolicy({ enabled: true, fetchFn, now: NOW }), refreshOrganisationPolicy({ enabled: true, fetchFn, now: NOW })]);
    expect(fetchFn.sent).toHaveLength(1);
    expect(a).toBe(b);
  });
});

/**
 * A fetch into the verifier app in process, like test/helpers/inject-fetch.ts, which cannot answer a
 * 304 (a Response with a null-body status may not be given the empty body light-my-request returns).
 */
function verifierFetch(app: () => TestVerifier['app'], faults: { down?: boolean }) {
  const calls: string[] = [];
  const fn = async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    calls.push(`${init.method ?? 'GET'} ${url.pathname}`);
    if (faults.down) throw new TypeError('fetch failed');
    const res = await app().inject({ method: (init.method ?? 'GET') as 'GET', url: url.pathname + url.search, headers: Object.fromEntries(new Headers(init.headers).entries()), ...(init.body ? { payload: init.body as string } : {}) });
    const nullBody = [101, 204, 205, 304].includes(res.statusCode);
    return new Response(nullBody ? null : res.body, { status: res.statusCode, headers: res.headers as Record<string, string> });
  };
  return Object.assign(fn as typeof fetch, { calls });
}

describe('against a real verifier (in process)', () => {
  let v: TestVerifier;
  const faults: { down?: boolean } = {};
  afterEach(() => v.close());

  it('enrolls, fetches the version the admin set, gets 304 while it stands, the next version after a PUT, and keeps it while the verifier is down', async () => {
    v = await startVerifier('sqlite');
    const fetchFn = verifierFetch(() => v.app, faults);
    const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
    await enroll({ verifierUrl: PUBLIC_URL, code, label: 'test browser' }, fetchFn);
    const refresh = () => refreshOrganisationPolicy({ enabled: true, fetchFn, now: v.clock.now });

    // Nothing set yet: version 0, an empty policy.
    expect((await refresh()).state.copy).toMatchObject({ version: 0, policy: {} });
    expect((await v.admin('PUT', '/v1/admin/extension-policy', DOC)).statusCode).toBe(200);
    v.clock.now += 1000;
    expect(await refresh()).toMatchObject({ changed: true, state: { copy: { version: 1, policy: DOC } } });
    v.clock.now += 1000;
    expect(await refresh()).toMatchObject({ changed: false, state: { error: null } });
    expect((await v.admin('PUT', '/v1/admin/extension-policy', { ...DOC, killSwitch: true })).statusCode).toBe(200);
    v.clock.now += 1000;
    expect(await refresh()).toMatchObject({ changed: true, state: { copy: { version: 2 } } });
    faults.down = true;
    v.clock.now += 1000;
    expect(await refresh()).toMatchObject({ changed: false, state: { copy: { version: 2 }, error: expect.stringMatching(/did not answer/) } });
    faults.down = false;
    const view = effectivePolicy({}, {}, [], await heldOrganisationPolicy());
    expect(view.policy).toMatchObject({ protectedSites: DOC.protectedSites, approvalTtlSeconds: 90, killSwitch: true });
    expect(fetchFn.calls.filter((c) => c === 'GET /v1/extension-policy')).toHaveLength(5);
  });
});
