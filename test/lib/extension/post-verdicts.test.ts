// Receipt verdicts for readers' badges: verified, unverified AI, each kind of invalid, human; the
// JWKS cache refreshes on an unknown kid, at most once a minute.
import { describe, expect, it, vi } from 'vitest';
import { JwksCache, VerdictCache, verdictFor } from '@/lib/extension/post-verdicts';
import { exportEs256PublicJwk, generateEs256KeyPair, mintReceipt, newTraceId, signCompactJws } from '@/lib/protocol';

const ISSUER = 'https://verifier.corp.example';
const TEXT = 'Ask the payroll team for a time-boxed grant.';

async function setup() {
  const pair = await generateEs256KeyPair();
  const jwk = { ...(await exportEs256PublicJwk(pair.publicKey)), kid: 'rk-1' };
  const fetchFn = vi.fn(async () => new Response(JSON.stringify({ keys: [jwk] }), { headers: { 'content-type': 'application/json' } }));
  let now = 0;
  const keys = new JwksCache(() => ISSUER, fetchFn as unknown as typeof fetch, () => now);
  const { receipt, claims } = await mintReceipt({ privateKey: pair.privateKey, kid: 'rk-1', issuer: ISSUER, agent: 'agent:forum-helper', approver: 'alice', traceId: newTraceId(), digest: 'A'.repeat(43), policyVersion: 'v1', content: TEXT });
  const ctx = { issuer: ISSUER, assistantAccounts: ['assistant'], keys };
  return { pair, receipt, claims, ctx, fetchFn, tick: (ms: number) => (now += ms) };
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
    const cold = { ...s.ctx, keys: new JwksCache(() => ISSUER, s.fetchFn as unknown as typeof fetch) };
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => verdictFor({ receipt: s.receipt, author: 'assistant', content: TEXT, marked: false }, cold)));
    expect(verdicts.map((v) => v.state)).toEqual(Array(20).fill('verified'));
  });
});

describe('verdict cache', () => {
  it('checks a receipt once for the same text, again when the text differs', async () => {
    const s = await setup();
    const cache = new VerdictCache();
    const verify = vi.spyOn(crypto.subtle, 'verify');
    const post = { receipt: s.receipt, author: 'assistant', content: TEXT, marked: false };
    expect((await cache.get(post, s.ctx)).state).toBe('verified');
    expect((await cache.get(post, s.ctx)).state).toBe('verified');
    expect(verify).toHaveBeenCalledTimes(1);
    expect((await cache.get({ ...post, content: 'edited' }, s.ctx)).state).toBe('invalid');
    expect(verify).toHaveBeenCalledTimes(2);
    verify.mockRestore();
  });
});
