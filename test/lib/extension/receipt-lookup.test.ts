// Receipts looked up on the verifier by text digest: the call is POST /v1/receipts/lookup {site, cdgs}
// with the device's proof over exactly that request (and nothing is sent where this browser is not
// enrolled); a page's digests go out 100 a call, those asked together in one turn sharing calls; the
// answer is parsed with the protocol's schema, and a bad answer, a refusal or no answer finds nothing
// and keeps the verifier from being asked again for 30 s (no storm of failing calls). Node only (tests:
// fake IndexedDB for the device key and enrollment).
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { deviceKey } from '@/lib/extension/device-key';
import { LOOKUP_COOLDOWN_MS, ReceiptLookup, deviceAuthorization } from '@/lib/extension/receipt-lookup';
import { DEVICE_AUTH_SCHEME, contentDigest, importEs256PublicJwk, verifyDeviceProof } from '@/lib/protocol';
import { ISSUER, receiptVerifier } from '../../helpers/receipt-verifier';
import type { ReceiptVerifier } from '../../helpers/receipt-verifier';

const SITE = 'http://wiki.corp:8090';
const cdgOf = (i: number) => `${String(i).padStart(4, '0')}${'c'.repeat(39)}`;
const cdgs = (n: number, from = 0) => Array.from({ length: n }, (_, i) => cdgOf(from + i));

let verifier: ReceiptVerifier;
let clock: number;
const lookupWith = (authorize: () => Promise<string | null> = async () => `${DEVICE_AUTH_SCHEME} proof`) => new ReceiptLookup({ fetchFn: verifier.fetchFn as unknown as typeof fetch, authorize, now: () => clock });

beforeEach(async () => {
  verifier = await receiptVerifier();
  clock = 1_700_000_000_000;
});

describe('the lookup call', () => {
  it('is POST /v1/receipts/lookup {site, cdgs} on the verifier, signed by the enrolled device key over that method and URL', async () => {
    useDatabase(new CountersignDb(`cs-lookup-${crypto.randomUUID()}`));
    const key = await deviceKey();
    await db().enrollment.put({ id: 'current', verifierUrl: ISSUER, deviceId: 'device-1', userId: 'alice', kid: key.kid, label: 't', enrolledAt: Date.now() });
    const cdg = await verifier.approve(SITE, 'Rotate the keys.');
    const found = await new ReceiptLookup({ fetchFn: verifier.fetchFn as unknown as typeof fetch, authorize: deviceAuthorization }).find(ISSUER, SITE, [cdg]);
    expect(found.get(cdg)).toHaveLength(1);
    const [call] = verifier.calls;
    expect(call!.url).toBe(`${ISSUER}/v1/receipts/lookup`);
    expect(call!.body).toEqual({ site: SITE, cdgs: [cdg] });
    // The verifier's own check of the proof: this device, this request, once.
    const publicKey = await importEs256PublicJwk(key.publicJwk);
    const used = new Set<string>();
    const ctx = {
      lookupKey: (kid: string) => (kid === key.kid ? { kid, deviceId: 'device-1', userId: 'alice', revoked: false, publicKey } : undefined),
      method: 'POST',
      url: `${ISSUER}/v1/receipts/lookup`,
      now: Math.floor(Date.now() / 1000),
      consume: ({ jti }: { jti: string }) => !used.has(jti) && !!used.add(jti),
    };
    await expect(verifyDeviceProof(call!.authorization, ctx)).resolves.toMatchObject({ userId: 'alice' });
    // A proof for this lookup is no proof for another request (the policy fetch, say).
    await expect(verifyDeviceProof(call!.authorization, { ...ctx, method: 'GET', url: `${ISSUER}/v1/extension-policy` })).rejects.toMatchObject({ code: 'action_mismatch' });
  });

  it('a browser not enrolled, enrolled with another verifier, or whose key is not the enrolled one signs nothing and sends nothing', async () => {
    useDatabase(new CountersignDb(`cs-lookup-${crypto.randomUUID()}`));
    const url = `${ISSUER}/v1/receipts/lookup`;
    expect(await deviceAuthorization('POST', url, ISSUER)).toBeNull();
    const key = await deviceKey();
    await db().enrollment.put({ id: 'current', verifierUrl: 'http://other-verifier.test', deviceId: 'device-1', userId: 'alice', kid: key.kid, label: 't', enrolledAt: Date.now() });
    expect(await deviceAuthorization('POST', url, ISSUER)).toBeNull();
    await db().enrollment.put({ id: 'current', verifierUrl: ISSUER, deviceId: 'device-1', userId: 'alice', kid: 'another-key', label: 't', enrolledAt: Date.now() });
    expect(await deviceAuthorization('POST', url, ISSUER)).toBeNull();

    const found = await lookupWith(async () => null).find(ISSUER, SITE, cdgs(3));
    expect(found.size).toBe(0);
    expect(verifier.calls).toHaveLength(0);
  });

  it('an answer is read for the digests asked only: receipts the verifier adds for other digests are left out', async () => {
    const asked = await verifier.approve(SITE, 'asked');
    const other = await contentDigest('not asked');
    verifier.answerWith(() => verifier.json({ receipts: { [asked]: ['r1.x.y'], [other]: ['r2.x.y'] } }));
    const found = await lookupWith().find(ISSUER, SITE, [asked]);
    expect([...found]).toEqual([[asked, ['r1.x.y']]]);
  });
});

describe('batching', () => {
  it('a page\'s digests go out at most 100 a call, each once', async () => {
    const found = await lookupWith().find(ISSUER, SITE, [...cdgs(250), ...cdgs(10)]);
    expect(found.size).toBe(0);
    expect(verifier.calls.map((c) => c.body.cdgs.length)).toEqual([100, 100, 50]);
    expect(new Set(verifier.calls.flatMap((c) => c.body.cdgs)).size).toBe(250);
  });

  it('digests asked for one site in the same turn (the batches of one badge pass) share calls; another site is asked apart', async () => {
    const lookup = lookupWith();
    const kept = await verifier.approve(SITE, 'in the second batch');
    const [, b, c] = await Promise.all([lookup.find(ISSUER, SITE, cdgs(60)), lookup.find(ISSUER, SITE, [...cdgs(59, 60), kept]), lookup.find(ISSUER, 'http://other.corp', cdgs(5))]);
    expect(verifier.calls.map((call) => [call.body.site, call.body.cdgs.length])).toEqual([[SITE, 100], [SITE, 20], ['http://other.corp', 5]]);
    expect(b.get(kept)).toHaveLength(1);
    expect(c.size).toBe(0);
  });

  it('nothing to ask: no call', async () => {
    await lookupWith().find(ISSUER, SITE, []);
    expect(verifier.calls).toHaveLength(0);
  });
});

describe('bad answers find nothing (fail closed) and hold the verifier off for 30 s', () => {
  const cdg = cdgOf(1);
  it.each([
    ['an HTTP error', () => verifier.json({ error: { code: 'internal', message: 'down', traceId: '0'.repeat(32) } }, 500)],
    ['a refusal of the device (401)', () => verifier.json({ error: { code: 'key_unknown', message: 'who?', traceId: '0'.repeat(32) } }, 401)],
    ['no answer', () => Promise.reject(new TypeError('Failed to fetch'))],
    ['an answer that is not JSON', () => new Response('<html>', { status: 200 })],
    ['JSON with a duplicate member', () => new Response(`{"receipts":{},"receipts":{"${cdg}":["a.b.c"]}}`, { status: 200 })],
    ['receipts that are not a list', () => verifier.json({ receipts: { [cdg]: 'a.b.c' } })],
    ['a receipt that is not a string', () => verifier.json({ receipts: { [cdg]: [42] } })],
    ['a key that is not a digest', () => verifier.json({ receipts: { 'not-a-digest': ['a.b.c'] } })],
    ['more than 5 receipts for a digest', () => verifier.json({ receipts: { [cdg]: Array(6).fill('a.b.c') } })],
    ['a member the schema does not name', () => verifier.json({ receipts: {}, more: true })],
    ['an answer too large to be one', () => verifier.json({ receipts: { [cdg]: ['x'.repeat(6 * 1024 * 1024)] } })],
  ])('%s', async (_name, answer) => {
    verifier.answerWith(answer as () => Response);
    const lookup = lookupWith();
    expect((await lookup.find(ISSUER, SITE, [cdg])).size).toBe(0);
    expect(verifier.calls).toHaveLength(1);
    clock += LOOKUP_COOLDOWN_MS - 1;
    expect((await lookup.find(ISSUER, SITE, [cdg])).size).toBe(0);
    expect(verifier.calls).toHaveLength(1);
    verifier.answerWith(null);
    clock += 1;
    await lookup.find(ISSUER, SITE, [cdg]);
    expect(verifier.calls).toHaveLength(2);
  });

  it('a failing call stops the rest of the page: 2,000 posts against a verifier that is down cost one call', async () => {
    verifier.answerWith(() => Promise.reject(new TypeError('Failed to fetch')));
    const found = await lookupWith().find(ISSUER, SITE, cdgs(2000));
    expect(found.size).toBe(0);
    expect(verifier.calls).toHaveLength(1);
  });

  it('a page of 2,000 posts: the first call alone, then the rest at most 4 at once', async () => {
    let open = 0;
    let most = 0;
    verifier.answerWith(async () => {
      most = Math.max(most, ++open);
      await new Promise((r) => setTimeout(r, 5));
      open--;
      return verifier.json({ receipts: {} });
    });
    await lookupWith().find(ISSUER, SITE, cdgs(2000));
    expect(verifier.calls).toHaveLength(20);
    expect(most).toBe(4);
  });

  it('a chunk answered before another failed still counts for the digests it answered', async () => {
    const kept = await verifier.approve(SITE, 'first chunk');
    const receipt = await verifier.receipt('first chunk');
    verifier.answerWith((call) => (call.body.cdgs.includes(kept) ? verifier.json({ receipts: { [kept]: [receipt] } }) : verifier.json({}, 500)));
    const found = await lookupWith().find(ISSUER, SITE, [kept, ...cdgs(150)]);
    expect(found.get(kept)).toEqual([receipt]);
    expect(verifier.calls).toHaveLength(2);
  });
});
