// Every refusal carries a trace id (DESIGN.md, "Verifier HTTP API"): the token's `trc` when the
// refused token carried one, else the request's own id — 32 lower-case hex, the `reqId` of every log
// line of that request, and named in its "request refused" line. Across routes: enrollment, schema,
// not found, a URL that does not decode, admin, log batch, body limits, content types, verify.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '@/lib/protocol';
import { REDACTED_HEADERS } from '../../../server/app';
import { FORUM_REQUEST, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';

const TRACE_ID = /^[0-9a-f]{32}$/;

interface LogLine {
  reqId?: string;
  msg?: string;
  traceId?: string;
  code?: string;
}

let v: TestVerifier;
let alice: Device;
const lines: LogLine[] = [];

beforeAll(async () => {
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  v = await startVerifier('sqlite', { logger: { level: 'info', redact: REDACTED_HEADERS, stream } as never });
  alice = await v.enroll('alice');
  await v.registerAgent('agent:forum-helper', 'alice');
});
afterAll(() => v.close());

/** The refusal's body, checked against DESIGN.md's shape (traceId required), and the log lines of its request. */
function refusalOf(res: { statusCode: number; body: string }): { status: number; code: string; traceId: string } {
  const parsed = ErrorBody.parse(JSON.parse(res.body));
  return { status: res.statusCode, code: parsed.error.code, traceId: parsed.error.traceId };
}

const linesOf = (reqId: string) => lines.filter((l) => l.reqId === reqId);

const requests: Array<[string, number, string, () => Promise<{ statusCode: number; body: string }>]> = [
  ['enrollment with a bad code', 403, 'code_invalid', async () => v.app.inject({ method: 'POST', url: '/v1/enroll', payload: { code: 'AAAA-BBBB-CCCC-DDDD', publicKeyJwk: { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }, label: 'x' } })],
  ['an enrollment schema refusal', 400, 'payload_invalid', async () => v.app.inject({ method: 'POST', url: '/v1/enroll', payload: { code: 'x' } })],
  ['a verify schema refusal (no scope)', 400, 'payload_invalid', async () => v.verifyExact({ token: 'x', request: FORUM_REQUEST })],
  ['a body that is not JSON', 400, 'payload_invalid', async () => v.app.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/json' }, payload: '{not json' })],
  ['an unsupported content type', 400, 'payload_invalid', async () => v.app.inject({ method: 'POST', url: '/v1/enroll', headers: { 'content-type': 'application/xml' }, payload: '<x/>' })],
  ['a body over the limit', 413, 'payload_too_large', async () => v.app.inject({ method: 'POST', url: '/v1/enroll', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ code: 'x'.repeat(100_000) }) })],
  ['an unknown route', 404, 'not_found', async () => v.app.inject({ method: 'GET', url: '/v1/nope' })],
  ['a URL that does not decode', 400, 'payload_invalid', async () => v.app.inject({ method: 'GET', url: '/v1/%E0%A4%A' })],
  ['an admin call without the token', 401, 'unauthorized', async () => v.app.inject({ method: 'GET', url: '/v1/admin/policy' })],
  ['an admin call with a wrong token', 401, 'unauthorized', async () => v.app.inject({ method: 'POST', url: '/v1/admin/kill', headers: { authorization: 'Bearer wrong' }, payload: { scope: 'global' } })],
  ['an admin schema refusal', 400, 'payload_invalid', async () => v.admin('POST', '/v1/admin/kill', { scope: 'planet' })],
  ['an admin not-found', 404, 'not_found', async () => v.admin('POST', '/v1/admin/devices/nope/revoke')],
  ['a log batch that is not a JWS', 400, 'token_malformed', async () => v.app.inject({ method: 'POST', url: '/v1/log/batch', headers: { 'content-type': 'application/jose' }, payload: 'not.a.jws' })],
  ['a log batch signed by no enrolled key', 403, 'key_unknown', async () => v.app.inject({ method: 'POST', url: '/v1/log/batch', headers: { 'content-type': 'application/jose' }, payload: `${Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'countersign-log+jwt', kid: 'unknown' })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.${Buffer.alloc(64).toString('base64url')}` })],
  ['a verify with no token', 401, 'token_missing', async () => v.verify({ request: FORUM_REQUEST })],
  ['a verify with a token that does not parse', 400, 'token_malformed', async () => v.verify({ token: 'a.b', request: FORUM_REQUEST })],
];

describe('a refusal without a token trace carries the request\'s own id', () => {
  it.each(requests)('%s → %i %s with a 32-hex trace id, the reqId of its log lines', async (_name, status, code, send) => {
    const refusal = refusalOf(await send());
    expect(refusal).toEqual({ status, code, traceId: expect.stringMatching(TRACE_ID) });
    const own = linesOf(refusal.traceId);
    expect(own.map((l) => l.msg)).toEqual(expect.arrayContaining(['incoming request', 'request refused']));
    expect(own.find((l) => l.msg === 'request refused')).toMatchObject({ code, traceId: refusal.traceId });
  });

  it('every request has its own id', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add(refusalOf(await v.app.inject({ method: 'GET', url: '/v1/nope' })).traceId);
    expect(ids.size).toBe(20);
  });

  it('a client-chosen request id is never taken (it would forge log correlation)', async () => {
    const chosen = 'ab'.repeat(16);
    for (const header of ['request-id', 'x-request-id', 'traceparent']) {
      const refusal = refusalOf(await v.app.inject({ method: 'GET', url: '/v1/nope', headers: { [header]: header === 'traceparent' ? `00-${chosen}-00f067aa0ba902b7-01` : chosen } }));
      expect(refusal.traceId).not.toBe(chosen);
    }
  });
});

describe('a refusal of a token that carried trc answers with that trc', () => {
  it('replayed, action_mismatch (scope), audience_mismatch: the token\'s trace id, also in the refusal\'s log line', async () => {
    const { token, traceId } = await v.mint(alice);
    expect((await v.verify({ token, request: FORUM_REQUEST })).statusCode).toBe(200);
    const cases = [
      { token, request: FORUM_REQUEST },
      { token: (await v.mint(alice, { traceId })).token, request: FORUM_REQUEST, scope: 'admin.acl.write' },
      { token: (await v.mint(alice, { traceId })).token, request: { ...FORUM_REQUEST, url: 'http://127.0.0.1:9090/api/topics/7/replies' } },
    ];
    for (const body of cases) {
      const refusal = refusalOf(await v.verify(body));
      expect(refusal.traceId).toBe(traceId);
      expect(lines.filter((l) => l.msg === 'request refused' && l.traceId === traceId).length).toBeGreaterThan(0);
    }
    // Each refusal's log line ties the token's trace to the request's own id.
    const refused = lines.filter((l) => l.msg === 'request refused' && l.traceId === traceId);
    expect(refused.map((l) => l.code)).toEqual(['replayed', 'action_mismatch', 'audience_mismatch']);
    for (const line of refused) expect(line.reqId).toMatch(TRACE_ID);
  });
});

describe('the log never carries a token', () => {
  it('neither the refused token\'s payload nor its signature is in any log line', async () => {
    const { token } = await v.mint(alice);
    await v.verify({ token, request: FORUM_REQUEST, scope: 'admin.acl.write' });
    const log = JSON.stringify(lines);
    expect(log).not.toContain(token.split('.')[1]!);
    expect(log).not.toContain(token.split('.')[2]!);
  });
});
