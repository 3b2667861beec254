// `POST /v1/receipts/lookup` (device-authenticated): every receipt an allowed verify issues is kept
// with its site and cdg, and a reader's extension finds it again by the digest of a post's text —
// only on that site, newest first, at most five per text, nothing for refused or replayed tokens.
// The body is checked whole (origin, 1–100 unique 43-character digests) and the device proof before
// it. SQLite and PostgreSQL. Node only (tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentDigest, importEs256Jwks, mintDeviceProof, verifyReceipt } from '../../../lib/protocol';
import { ReceiptLookupResponse } from '../../../lib/protocol/api';
import type { ActionRequest } from '../../../lib/protocol';
import { DATABASES, FORUM_REQUEST, PUBLIC_URL, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';

const SITE = 'http://127.0.0.1:8080';
const WIKI = 'https://wiki.corp.example';

/** A forum reply whose text is `text`, on `origin`. */
function reply(text: string, origin = SITE): ActionRequest {
  return { ...FORUM_REQUEST, url: `${origin}/api/topics/7/replies`, body: JSON.stringify({ body: text, author_kind: 'assistant' }) };
}

describe.each(DATABASES)('POST /v1/receipts/lookup (%s)', (kind) => {
  let v: TestVerifier;
  let alice: Device;
  let reader: Device;

  beforeAll(async () => {
    v = await startVerifier(kind);
    alice = await v.enroll('alice');
    reader = await v.enroll('rita');
    await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], [SITE, WIKI]);
  });
  afterAll(() => v.close());

  /** Verifies an approved post of `text`; returns the receipt the tool was handed. */
  async function approvedPost(text: string, origin = SITE): Promise<string> {
    const request = reply(text, origin);
    const { token } = await v.mint(alice, { request });
    const res = await v.verify({ token, request, contentField: '/body' });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { receipt: string }).receipt;
  }

  async function lookup(body: unknown, device: Device = reader): Promise<{ status: number; json: { receipts?: Record<string, string[]>; error?: { code: string; message: string } } }> {
    const authorization = await mintDeviceProof({ privateKey: device.privateKey, kid: device.kid, method: 'POST', url: `${PUBLIC_URL}/v1/receipts/lookup`, now: v.seconds() });
    const res = await v.app.inject({ method: 'POST', url: '/v1/receipts/lookup', headers: { authorization }, payload: body as object });
    return { status: res.statusCode, json: res.json() };
  }

  it('finds the receipt a verify issued by the cdg of the post\'s text; it verifies against the JWKS and binds that text', async () => {
    const text = 'Try revoking the group grant, then re-add the two members.';
    const receipt = await approvedPost(text);
    const cdg = await contentDigest(text);
    const res = await lookup({ site: SITE, cdgs: [cdg] });
    expect(res.status).toBe(200);
    expect(ReceiptLookupResponse.parse(res.json)).toEqual({ receipts: { [cdg]: [receipt] } });
    const keys = await importEs256Jwks((await v.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json());
    // The rendered text may differ in whitespace: the cdg is over the normalised text.
    const { claims } = await verifyReceipt(res.json.receipts![cdg]![0], { lookupKey: (k) => keys.get(k), issuer: PUBLIC_URL, content: `  ${text.replaceAll(' ', '\n ')} ` });
    expect(claims).toMatchObject({ sub: 'agent:forum-helper', apv: 'alice', cdg });
  });

  it('answers only the cdgs that have receipts; an unknown cdg is simply absent', async () => {
    const cdg = await contentDigest('A reply that was approved.');
    const receipt = await approvedPost('A reply that was approved.');
    const never = await contentDigest('A reply nobody approved.');
    expect((await lookup({ site: SITE, cdgs: [never, cdg] })).json).toEqual({ receipts: { [cdg]: [receipt] } });
    expect((await lookup({ site: SITE, cdgs: [never] })).json).toEqual({ receipts: {} });
  });

  it('is per site: the same text approved on another tool is not this site\'s receipt', async () => {
    const text = 'The wiki moves on Friday.';
    const wiki = await approvedPost(text, WIKI);
    const cdg = await contentDigest(text);
    expect((await lookup({ site: SITE, cdgs: [cdg] })).json).toEqual({ receipts: {} });
    expect((await lookup({ site: WIKI, cdgs: [cdg] })).json).toEqual({ receipts: { [cdg]: [wiki] } });
  });

  it('the same text approved again and again: newest first, at most five', async () => {
    const text = '+1, thanks!';
    const issued: string[] = [];
    for (let i = 0; i < 7; i++) {
      v.clock.now += 1000;
      issued.push(await approvedPost(text));
    }
    const cdg = await contentDigest(text);
    expect((await lookup({ site: SITE, cdgs: [cdg] })).json).toEqual({ receipts: { [cdg]: issued.slice(-5).reverse() } });
  });

  it('a refused verify and a replayed token leave no receipt behind; a route with no content field leaves none to find', async () => {
    const text = 'Refused reply.';
    const request = reply(text);
    const { token } = await v.mint(alice, { request, agent: 'agent:not-registered' });
    expect((await v.verify({ token, request, contentField: '/body' })).statusCode).toBe(403);
    expect((await lookup({ site: SITE, cdgs: [await contentDigest(text)] })).json).toEqual({ receipts: {} });

    const once = reply('Replayed reply.');
    const first = await v.mint(alice, { request: once });
    expect((await v.verify({ token: first.token, request: once, contentField: '/body' })).statusCode).toBe(200);
    expect((await v.verify({ token: first.token, request: once, contentField: '/body' })).statusCode).toBe(409);
    expect((await lookup({ site: SITE, cdgs: [await contentDigest('Replayed reply.')] })).json.receipts![await contentDigest('Replayed reply.')]).toHaveLength(1);

    const before = await v.database.db.selectFrom('receipts').select('jti').execute();
    const plain = reply('No content field on this route.');
    const second = await v.mint(alice, { request: plain });
    const { receipt } = (await v.verify({ token: second.token, request: plain })).json() as { receipt: string };
    const after = await v.database.db.selectFrom('receipts').select(['jti', 'cdg', 'receipt', 'site']).execute();
    // Still stored (with its site, without a cdg), but no lookup can name it.
    expect(after).toHaveLength(before.length + 1);
    expect(after.find((r) => r.receipt === receipt)).toMatchObject({ cdg: null, site: SITE });
  });

  it('stores the receipt with its jti and issue time, exactly the JWS the tool was handed', async () => {
    const receipt = await approvedPost('Stored as issued.');
    const { jti } = JSON.parse(Buffer.from(receipt.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string };
    const row = await v.database.db.selectFrom('receipts').selectAll().where('jti', '=', jti).executeTakeFirstOrThrow();
    expect(row).toEqual({ jti, site: SITE, cdg: await contentDigest('Stored as issued.'), receipt, issued_at: v.clock.now });
  });

  it.each([
    ['a site with a path', { site: `${SITE}/forum`, cdgs: ['A'.repeat(43)] }, 'site'],
    ['a site with a trailing slash', { site: `${SITE}/`, cdgs: ['A'.repeat(43)] }, 'site'],
    ['a site that is not http(s)', { site: 'ftp://127.0.0.1', cdgs: ['A'.repeat(43)] }, 'site'],
    ['a site that is no URL', { site: 'forum', cdgs: ['A'.repeat(43)] }, 'site'],
    ['an upper-case host (not the origin as URL spells it)', { site: 'http://FORUM.corp.example', cdgs: ['A'.repeat(43)] }, 'site'],
    ['no cdgs', { site: SITE, cdgs: [] }, 'cdgs'],
    ['101 cdgs', { site: SITE, cdgs: Array.from({ length: 101 }, (_, i) => `${String(i).padStart(3, '0')}${'A'.repeat(40)}`) }, 'cdgs'],
    ['a repeated cdg', { site: SITE, cdgs: ['A'.repeat(43), 'A'.repeat(43)] }, 'cdgs'],
    ['a 42-character cdg', { site: SITE, cdgs: ['A'.repeat(42)] }, 'cdgs'],
    ['a hex digest', { site: SITE, cdgs: ['a'.repeat(64)] }, 'cdgs'],
    ['a padded cdg', { site: SITE, cdgs: [`${'A'.repeat(42)}=`] }, 'cdgs'],
    ['a cdg that is not a string', { site: SITE, cdgs: [42] }, 'cdgs'],
    ['an unknown member', { site: SITE, cdgs: ['A'.repeat(43)], limit: 50 }, ''],
    ['no site', { cdgs: ['A'.repeat(43)] }, 'site'],
  ])('%s → 400 payload_invalid', async (_name, body, field) => {
    const res = await lookup(body);
    expect(res.status).toBe(400);
    expect(res.json.error?.code).toBe('payload_invalid');
    expect(res.json.error?.message).toContain(field);
  });

  it('100 unique cdgs are accepted', async () => {
    const cdgs = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}${'A'.repeat(40)}`);
    expect(await lookup({ site: SITE, cdgs })).toEqual({ status: 200, json: { receipts: {} } });
  });

  describe('device authentication', () => {
    const body = { site: SITE, cdgs: ['A'.repeat(43)] };
    const send = (headers: Record<string, string>, payload: unknown = body) => v.app.inject({ method: 'POST', url: '/v1/receipts/lookup', headers, payload: payload as object });

    it('no proof → 401 token_missing; a bearer token → 400 token_malformed; both before the body is looked at', async () => {
      expect((await send({})).json().error.code).toBe('token_missing');
      expect((await send({ authorization: 'Bearer abc' })).json().error.code).toBe('token_malformed');
      // An unauthenticated caller learns nothing from the body's validation.
      expect((await send({}, { site: 'nonsense' })).json().error.code).toBe('token_missing');
    });

    it('a proof for another route → 403 action_mismatch; a replayed proof → 409 replayed', async () => {
      const other = await mintDeviceProof({ privateKey: reader.privateKey, kid: reader.kid, method: 'GET', url: `${PUBLIC_URL}/v1/extension-policy`, now: v.seconds() });
      expect((await send({ authorization: other })).json().error.code).toBe('action_mismatch');
      const once = await mintDeviceProof({ privateKey: reader.privateKey, kid: reader.kid, method: 'POST', url: `${PUBLIC_URL}/v1/receipts/lookup`, now: v.seconds() });
      expect((await send({ authorization: once })).statusCode).toBe(200);
      const replay = await send({ authorization: once });
      expect(replay.statusCode).toBe(409);
      expect(replay.json().error.code).toBe('replayed');
    });

    it("a revoked device's proof → 403 key_revoked", async () => {
      const gone = await v.enroll('gone');
      expect((await v.admin('POST', `/v1/admin/devices/${gone.kid}/revoke`)).statusCode).toBe(200);
      expect((await lookup(body, gone)).json.error?.code).toBe('key_revoked');
    });
  });
});
