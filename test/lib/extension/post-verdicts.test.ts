// Receipt verdicts for readers' badges: verified, unverified AI, each kind of invalid, human; receipts
// looked up by the text's digest, which verify as rendered ones do and are no badge when they fail; the
// JWKS cache (one per issuer) refreshes on an unknown kid, at most once a minute after a success or a
// failure, and refuses a key set that mixes key kinds while keeping the keys it held.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IssuerKeys, JwksCache, LookedUpVerdicts, VerdictCache, verdictFor } from '@/lib/extension/post-verdicts';
import { contentDigest, exportEs256PublicJwk, generateEs256KeyPair, mintReceipt, newTraceId, protocolCrypto, signCompactJws } from '@/lib/protocol';

// jose's key set keeps time with Date.now(): the tests move it.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const ISSUER = 'https://verifier.corp.example';
const TEXT = 'Ask the payroll team for a time-boxed grant.';

async function setup() {
  const pair = await generateEs256KeyPair();
  const jwk = { ...(await exportEs256PublicJwk(pair.publicKey)), kid: 'rk-1' };
  const fetchFn = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) => new Response(JSON.stringify({ keys: [jwk] }), { headers: { 'content-type': 'application/json' } }));
  const keys = new JwksCache(ISSUER, fetchFn as unknown as typeof fetch);
  const { receipt, claims } = await mintReceipt({ privateKey: pair.privateKey, kid: 'rk-1', issuer: ISSUER, agent: 'agent:forum-helper', approver: 'alice', traceId: newTraceId(), digest: 'A'.repeat(43), policyVersion: 'v1', content: TEXT });
  const ctx = { issuer: ISSUER, assistantAccounts: ['assistant'], keys };
  return { pair, jwk, receipt, claims, ctx, fetchFn, tick: (ms: number) => vi.setSystemTime(Date.now() + ms) };
}

describe('post verdicts', () => {
  it('verified: signature, issuer and the rendered text (whitespace aside) all check out', async () => {
    const { receipt, claims, ctx } = await setup();
    const v = await verdictFor({ receipt, author: 'assistant', content: `\n  ${TEXT}  \n`, marked: false }, ctx);
    expect(v).toMatchObject({ state: 'verified', agent: 'agent:forum-helper', approver: 'alice', time: claims.iat, traceId: claims.trc });
  });

  it('unverified AI: an assistant account or a marker, and no receipt', async () => {
    const { ctx } = await setup();
    expect((await verdictFor({ receipt: null, author: 'assistant', content: 'x', marked: false }, ctx)).state).toBe('unverified-ai');
    expect((await verdictFor({ receipt: null, author: 'bob', content: 'x', marked: true }, ctx)).state).toBe('unverified-ai');
  });

  it('a human post gets no badge', async () => {
    const { ctx } = await setup();
    expect((await verdictFor({ receipt: null, author: 'bob', content: 'x', marked: false }, ctx)).state).toBe('none');
  });

  it.each([
    ['edited after approval', async (s: Awaited<ReturnType<typeof setup>>) => ({ receipt: s.receipt, content: 'The dataset is now public.' }), 'changed since'],
    ['signed by a foreign key under the same kid', async (s: Awaited<ReturnType<typeof setup>>) => {
      const foreign = await generateEs256KeyPair();
      return { receipt: await signCompactJws(foreign.privateKey, { typ: 'countersign-receipt+jwt', kid: 'rk-1' }, s.claims), content: TEXT };
    }, 'signature'],
    ['from an unknown issuer', async (s: Awaited<ReturnType<typeof setup>>) => ({ receipt: (await mintReceipt({ privateKey: s.pair.privateKey, kid: 'rk-1', issuer: 'https://evil.example', agent: 'a', approver: 'b', traceId: newTraceId(), digest: 'A'.repeat(43), policyVersion: 'v1', content: TEXT })).receipt, content: TEXT }), 'not signed by the verifier'],
    ['garbage', async () => ({ receipt: 'not-a-receipt', content: TEXT }), 'malformed'],
  ])('invalid: %s', async (_name, make, reason) => {
    const s = await setup();
    const post = await make(s);
    const v = await verdictFor({ ...post, author: 'assistant', marked: false }, s.ctx);
    expect(v.state).toBe('invalid');
    expect(v.reason).toContain(reason);
  });

  it('fetches the JWKS once, again for an unknown kid only after a minute', async () => {
    const s = await setup();
    expect(await s.ctx.keys.lookup('rk-1')).toBeDefined();
    expect(await s.ctx.keys.lookup('rk-2')).toBeUndefined();
    expect(s.fetchFn).toHaveBeenCalledTimes(1);
    s.tick(61_000);
    await s.ctx.keys.lookup('rk-2');
    expect(s.fetchFn).toHaveBeenCalledTimes(2);
  });

  it('lookups that arrive while the first JWKS fetch is under way wait for it (a page of posts checked at once)', async () => {
    const s = await setup();
    const found = await Promise.all(Array.from({ length: 20 }, () => s.ctx.keys.lookup('rk-1')));
    expect(found.every((k) => k !== undefined)).toBe(true);
    expect(s.fetchFn).toHaveBeenCalledTimes(1);
    const cold = { ...s.ctx, keys: new JwksCache(ISSUER, s.fetchFn as unknown as typeof fetch) };
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => verdictFor({ receipt: s.receipt, author: 'assistant', content: TEXT, marked: false }, cold)));
    expect(verdicts.map((v) => v.state)).toEqual(Array(20).fill('verified'));
  });
});

describe('the JWKS cache', () => {
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('asks the issuer\'s /.well-known/jwks.json, and keeps the keys until an unknown kid (no expiry of its own)', async () => {
    const s = await setup();
    expect(await s.ctx.keys.lookup('rk-1')).toBeDefined();
    expect(String(s.fetchFn.mock.calls[0]![0])).toBe(`${ISSUER}/.well-known/jwks.json`);
    s.tick(24 * 3600_000);
    expect(await s.ctx.keys.lookup('rk-1')).toBeDefined();
    expect(s.fetchFn).toHaveBeenCalledTimes(1);
  });

  it('J-17: a key set that mixes key kinds is refused whole; the keys held before stay, and the next try waits a minute', async () => {
    const s = await setup();
    expect(await s.ctx.keys.lookup('rk-1')).toBeDefined();
    const next = { ...(await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey)), kid: 'rk-2' };
    const rsa = { kty: 'RSA', kid: 'rk-3', n: 'sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw', e: 'AQAB' };
    s.fetchFn.mockImplementation(async () => json({ keys: [s.jwk, next, rsa] }));
    s.tick(61_000);
    expect(await s.ctx.keys.lookup('rk-2')).toBeUndefined();
    expect(s.fetchFn).toHaveBeenCalledTimes(2);
    expect(await s.ctx.keys.lookup('rk-1')).toBeDefined();
    expect(await s.ctx.keys.lookup('rk-3')).toBeUndefined();
    expect(s.fetchFn).toHaveBeenCalledTimes(2);
    s.fetchFn.mockImplementation(async () => json({ keys: [s.jwk, next] }));
    s.tick(61_000);
    expect(await s.ctx.keys.lookup('rk-2')).toBeDefined();
    expect(s.fetchFn).toHaveBeenCalledTimes(3);
  });

  it.each([
    ['a mixed set', async () => json({ keys: [{ kty: 'oct', kid: 'rk-1', k: 'c2VjcmV0' }] })],
    ['a repeated kid', async (jwk: object) => json({ keys: [jwk, jwk] })],
    ['an HTTP error', async () => json({ error: { code: 'internal', message: 'down' } }, 503)],
    ['an unreachable verifier', async () => Promise.reject(new TypeError('Failed to fetch'))],
    ['an answer that is not JSON', async () => new Response('<html>', { status: 200 })],
  ])('a first fetch that fails (%s) holds no key, and sends nothing more for a minute', async (_name, answer) => {
    const s = await setup();
    s.fetchFn.mockImplementation(async () => answer(s.jwk));
    expect(await s.ctx.keys.lookup('rk-1')).toBeUndefined();
    expect(await s.ctx.keys.lookup('rk-1')).toBeUndefined();
    expect(s.fetchFn).toHaveBeenCalledTimes(1);
    s.tick(30_000);
    expect(await s.ctx.keys.lookup('rk-1')).toBeUndefined();
    expect(s.fetchFn).toHaveBeenCalledTimes(1);
    s.fetchFn.mockImplementation(async () => json({ keys: [s.jwk] }));
    s.tick(31_000);
    expect(await s.ctx.keys.lookup('rk-1')).toBeDefined();
    expect(s.fetchFn).toHaveBeenCalledTimes(2);
  });

  it('one cache per issuer: the verifier in use is asked for its own keys, and another verifier\'s receipt does not verify against them', async () => {
    const s = await setup();
    const other = await generateEs256KeyPair();
    const otherJwk = { ...(await exportEs256PublicJwk(other.publicKey)), kid: 'rk-1' };
    const fetchFn = vi.fn(async (url: string | URL | Request) => json({ keys: [String(url).startsWith(ISSUER) ? s.jwk : otherJwk] }));
    const keys = new IssuerKeys(fetchFn as unknown as typeof fetch);
    expect(keys.of(ISSUER)).toBe(keys.of(ISSUER));
    const OTHER = 'https://other-verifier.example';
    const post = { receipt: s.receipt, author: 'assistant', content: TEXT, marked: false };
    expect((await verdictFor(post, { ...s.ctx, keys: keys.of(ISSUER) })).state).toBe('verified');
    const elsewhere = await verdictFor(post, { ...s.ctx, issuer: OTHER, keys: keys.of(OTHER) });
    expect(elsewhere).toMatchObject({ state: 'invalid', reason: 'the signature does not verify' });
    expect(fetchFn.mock.calls.map(([url]) => String(url))).toEqual([`${ISSUER}/.well-known/jwks.json`, `${OTHER}/.well-known/jwks.json`]);
  });
});

describe('verdict cache', () => {
  it('checks a receipt once for the same text, again when the text differs', async () => {
    const s = await setup();
    const cache = new VerdictCache();
    const verify = vi.spyOn(protocolCrypto(), 'verifyEs256');
    const post = { receipt: s.receipt, author: 'assistant', content: TEXT, marked: false };
    expect((await cache.get(post, s.ctx)).state).toBe('verified');
    expect((await cache.get(post, s.ctx)).state).toBe('verified');
    expect(verify).toHaveBeenCalledTimes(1);
    expect((await cache.get({ ...post, content: 'edited' }, s.ctx)).state).toBe('invalid');
    expect(verify).toHaveBeenCalledTimes(2);
    verify.mockRestore();
  });
});

describe('receipts looked up by the text\'s digest', () => {
  type Setup = Awaited<ReturnType<typeof setup>>;
  const mint = (s: Setup, over: Partial<Parameters<typeof mintReceipt>[0]> = {}) =>
    mintReceipt({ privateKey: s.pair.privateKey, kid: 'rk-1', issuer: ISSUER, agent: 'agent:wiki-helper', approver: 'bob', traceId: newTraceId(), digest: 'A'.repeat(43), policyVersion: 'v2', content: TEXT, ...over }).then((r) => r.receipt);
  const post = async (over: { author?: string; marked?: boolean } = {}) => ({ cdg: await contentDigest(TEXT), author: 'wiki-helper', marked: false, ...over });

  it('a receipt the verifier kept for this text: verified, with its agent, approver and time', async () => {
    const s = await setup();
    const v = await new LookedUpVerdicts().get(await post(), [s.receipt], s.ctx);
    expect(v).toMatchObject({ state: 'verified', agent: 'agent:forum-helper', approver: 'alice', time: s.claims.iat, traceId: s.claims.trc });
    expect(v.checks[0]).toBe('receipt kept by the verifier for this text');
  });

  it('no receipt for the text: a person\'s post gets no badge, an assistant\'s (account or marker) is unverified AI', async () => {
    const s = await setup();
    const verdicts = new LookedUpVerdicts();
    expect(await verdicts.get(await post(), [], s.ctx)).toEqual({ state: 'none', checks: [] });
    expect((await verdicts.get(await post({ author: 'assistant' }), [], s.ctx)).state).toBe('unverified-ai');
    expect((await verdicts.get(await post({ marked: true }), [], s.ctx)).state).toBe('unverified-ai');
  });

  it.each([
    ['a receipt for another post\'s text', (s: Setup) => mint(s, { content: 'Grant everyone read access.' })],
    ['a receipt that binds no text at all', (s: Setup) => mint(s, { content: null })],
    ['a receipt signed by a key that is not the verifier\'s (same kid)', async (s: Setup) => signCompactJws((await generateEs256KeyPair()).privateKey, { typ: 'countersign-receipt+jwt', kid: 'rk-1' }, s.claims)],
    ['a receipt from another issuer, signed with the same key', (s: Setup) => mint(s, { issuer: 'https://evil.example' })],
    ['garbage', async () => 'not-a-receipt'],
  ])('%s gets no badge — not "invalid" either: the page did not attach it, so it says nothing about the post', async (_name, make) => {
    const s = await setup();
    const verdicts = new LookedUpVerdicts();
    const bad = await make(s);
    expect(await verdicts.get(await post(), [bad], s.ctx)).toEqual({ state: 'none', checks: [] });
    expect((await verdicts.get(await post({ author: 'assistant' }), [bad], s.ctx)).state).toBe('unverified-ai');
  });

  it('a forged receipt before a genuine one does not hide it: the first that holds decides', async () => {
    const s = await setup();
    const forged = await mint(s, { content: 'something else', approver: 'mallory' });
    expect(await new LookedUpVerdicts().get(await post(), [forged, s.receipt], s.ctx)).toMatchObject({ state: 'verified', approver: 'alice' });
  });

  it('no verifier configured: nothing verifies', async () => {
    const s = await setup();
    expect((await new LookedUpVerdicts().get(await post(), [s.receipt], { ...s.ctx, issuer: null })).state).toBe('none');
  });

  it('a receipt that held is checked once; one that failed is checked again (its key may only have been out of reach)', async () => {
    const s = await setup();
    const verdicts = new LookedUpVerdicts();
    const verify = vi.spyOn(protocolCrypto(), 'verifyEs256');
    await verdicts.get(await post(), [s.receipt], s.ctx);
    await verdicts.get(await post(), [s.receipt], s.ctx);
    expect(verify).toHaveBeenCalledTimes(1);
    const other = await mint(s, { content: 'other text' });
    await verdicts.get(await post(), [other], s.ctx);
    await verdicts.get(await post(), [other], s.ctx);
    expect(verify).toHaveBeenCalledTimes(3);
    verify.mockRestore();
  });
});
