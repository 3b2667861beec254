// Token attacks through the real HTTP endpoint: every J- and A- case of SECURITY-CASES.md sent to
// `POST /v1/verify` of a verifier listening on a port, each refused with DESIGN.md's exact code and
// without consuming the approval it was made from (the genuine token still allows once afterwards);
// scope confusion (a token on another scope's route) and receipt content forgery (a caller's text);
// the 41 Wycheproof JWS ES256 cases wrapped as approval tokens; and the same tokens sent to a demo
// tool (Intraforum) whose middleware asks the verifier over HTTP, which refuses them and stores nothing.
import { createHmac } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ERROR_STATUS, contentDigest, encodeBase64url, exportEs256PublicJwk, generateEs256KeyPair } from '@/lib/protocol';
import type { ActionRequest, ErrorCode } from '@/lib/protocol';
import Fastify from 'fastify';
import { buildDemo } from '../../demo/app';
import type { Demo } from '../../demo/app';
import { FORUM_ROUTES, MARKERS, protectionOf } from '../../demo/protection';
import { countersignFastify, remoteVerifier } from '../../server/middleware';
import { P256_N, decodePart, flipUnusedBits, malleate } from '../helpers/approval-world';
import { recordAttacks } from '../helpers/tally';
import { ES256_JWS_TCIDS, range, readVector } from '../helpers/vectors';
import { startVerifier, withRouteScope } from '../helpers/verifier';
import type { Device, TestVerifier } from '../helpers/verifier';

const TOOL = 'http://127.0.0.1:8080';
/** The Host header of a request to TOOL: the middleware refuses one naming another authority. */
const TOOL_HOST = new URL(TOOL).host;
const REQUEST: ActionRequest = {
  method: 'POST',
  url: `${TOOL}/api/topics/1/replies`,
  contentType: 'application/json',
  body: '{"body":"Try revoking the group grant.","author_kind":"assistant"}',
};
const AGENT = 'agent:forum-helper';
/** The scope of REQUEST's route: the token's `scp` must equal it. */
const SCOPE = 'forum.post';
const TYP = 'countersign-approval+jwt';

let v: TestVerifier;
let url: string;
let alice: Device;
let bob: Device;
let demo: Demo;

beforeAll(async () => {
  v = await startVerifier('sqlite');
  alice = await v.enroll('alice');
  bob = await v.enroll('bob');
  await v.registerAgent(AGENT, 'alice', ['forum.post'], [TOOL]);
  url = await v.app.listen({ port: 0, host: '127.0.0.1' });
  // The tool asks whichever address the verifier listens on now (A-07 restarts it).
  demo = await buildDemo({ verifier: { verify: (call) => remoteVerifier({ url }).verify(call) }, forumOrigin: TOOL, consoleOrigin: 'http://localhost:8081' });
});
afterAll(async () => {
  await demo.close();
  await v.close();
});

// ---------- helpers ----------

interface Answer {
  status: number;
  code: string;
  body: string;
}

/** POST /v1/verify; a body that names no scope is sent with the forum reply route's (forum.post). */
async function verify(body: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(`${url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(withRouteScope(body, SCOPE)) });
  const text = await res.text();
  const json = JSON.parse(text) as { error?: { code: string } };
  return { status: res.status, code: json.error?.code ?? 'allowed', body: text };
}

function mint(device: Device = alice, o: Parameters<TestVerifier['mint']>[1] = {}) {
  return v.mint(device, { request: REQUEST, agent: AGENT, ...o });
}

async function signWith(privateKey: CryptoKey, header: unknown, payload: unknown): Promise<string> {
  const h = typeof header === 'string' ? header : encodeBase64url(JSON.stringify(header));
  const p = typeof payload === 'string' ? payload : encodeBase64url(JSON.stringify(payload));
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new TextEncoder().encode(`${h}.${p}`));
  return `${h}.${p}.${encodeBase64url(new Uint8Array(sig))}`;
}

const parts = (token: string) => token.split('.') as [string, string, string];
const sigBytes = (token: string) => Buffer.from(parts(token)[2], 'base64url');
const withSig = (token: string, sig: Buffer) => `${parts(token)[0]}.${parts(token)[1]}.${sig.toString('base64url')}`;

/** A genuine approval, and an attack made from it; the attack must not consume the genuine one. */
interface Made {
  attack: string | undefined;
  request?: ActionRequest;
  principal?: { kind: 'user' | 'agent'; id: string };
  /** The route's scope sent with the attack (default: REQUEST's, forum.post). */
  scope?: string;
  /** Extra members of the verify body (an attack on the body's schema). */
  extra?: Record<string, unknown>;
  /** The genuine token the attack was made from; checked to still allow once afterwards. */
  genuine?: { token: string; traceId: string };
}

/**
 * Sends the attack, expects `code` with its status, no token in the answer, decisions recorded as
 * refusals, and the genuine token (if any) still allowed exactly once afterwards.
 */
async function expectRefused(source: string, made: Made, code: ErrorCode): Promise<void> {
  const answer = await verify({ token: made.attack, request: made.request ?? REQUEST, scope: made.scope ?? SCOPE, ...(made.principal ? { principal: made.principal } : {}), ...made.extra });
  recordAttacks(`${source} via POST /v1/verify`, 1, answer.status === 200 ? 1 : 0);
  expect({ status: answer.status, code: answer.code }).toEqual({ status: ERROR_STATUS[code], code });
  if (made.attack && made.attack.length > 40) {
    for (const segment of made.attack.split('.')) if (segment.length >= 40) expect(answer.body).not.toContain(segment);
  }
  if (made.genuine) {
    const decisions = await decisionsOf(made.genuine.traceId);
    expect(decisions.filter((d) => d === 'allow')).toEqual([]);
    expect((await verify({ token: made.genuine.token, request: REQUEST })).status).toBe(200);
    expect((await verify({ token: made.genuine.token, request: REQUEST })).code).toBe('replayed');
  }
}

async function decisionsOf(traceId: string): Promise<string[]> {
  const res = await fetch(`${url}/v1/admin/events?trace=${traceId}`, { headers: { authorization: 'Bearer test-admin-token-0123456789' } });
  return ((await res.json()) as { decisions: Array<{ code: string }> }).decisions.map((d) => d.code);
}

/** A fresh genuine token and its parsed parts. */
async function genuine(o: Parameters<TestVerifier['mint']>[1] = {}) {
  const g = await mint(alice, o);
  return { ...g, header: decodePart(g.token, 0), claims: decodePart(g.token, 1) };
}

/** Re-signs the genuine token's claims under another header, with alice's own key (an insider's forgery tool). */
async function resigned(header: unknown, claimsPatch: Record<string, unknown> = {}, drop: string[] = []): Promise<Made> {
  const g = await genuine();
  const claims: Record<string, unknown> = { ...g.claims, ...claimsPatch };
  for (const name of drop) delete claims[name];
  return { attack: await signWith(alice.privateKey, header, claims), genuine: { token: g.token, traceId: g.traceId } };
}

const header = (extra: Record<string, unknown> = {}) => ({ alg: 'ES256', typ: TYP, kid: alice.kid, ...extra });

// ---------- J- cases ----------

describe('J-: JWS attacks via POST /v1/verify on a listening verifier', () => {
  it.each(['none', 'NONE', 'NoNe'])('J-01 alg "%s" with a non-empty signature → 403 alg_not_allowed', async (alg) => {
    const g = await genuine();
    const attack = `${encodeBase64url(JSON.stringify({ alg, typ: TYP, kid: alice.kid }))}.${parts(g.token)[1]}.AAAA`;
    await expectRefused('J-01', { attack, genuine: g }, 'alg_not_allowed');
  });

  it('J-01 alg none with an empty signature → 400 token_malformed', async () => {
    const g = await genuine();
    await expectRefused('J-01', { attack: `${encodeBase64url('{"alg":"none"}')}.${parts(g.token)[1]}.`, genuine: g }, 'token_malformed');
  });

  it('J-02 HS256 MACed with the ES256 public key (its enrolled JWK text, its raw point) → 403 alg_not_allowed', async () => {
    const row = await v.database.db.selectFrom('devices').select('public_jwk').where('kid', '=', alice.kid).executeTakeFirstOrThrow();
    const jwk = JSON.parse(row.public_jwk) as { x: string; y: string };
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
    const g = await genuine();
    const h = encodeBase64url(JSON.stringify({ alg: 'HS256', typ: TYP, kid: alice.kid }));
    for (const secret of [row.public_jwk, point, point.subarray(1)]) {
      const mac = createHmac('sha256', secret).update(`${h}.${parts(g.token)[1]}`).digest('base64url');
      await expectRefused('J-02', { attack: `${h}.${parts(g.token)[1]}.${mac}`}, 'alg_not_allowed');
    }
    expect((await verify({ token: g.token, request: REQUEST })).status).toBe(200);
  });

  it.each(['ES384', 'ES512', 'RS256', 'PS256', 'EdDSA', 'HS256', 'es256', ''])('J-03 alg "%s" (signed with the device key) → 403 alg_not_allowed', async (alg) => {
    await expectRefused('J-03', await resigned(header({ alg })), 'alg_not_allowed');
  });

  it("J-04 an embedded jwk with the attacker's own key, signed by the attacker → 403 header_not_allowed", async () => {
    const attacker = await generateEs256KeyPair();
    const g = await genuine();
    const attack = await signWith(attacker.privateKey, header({ jwk: await exportEs256PublicJwk(attacker.publicKey) }), g.claims);
    await expectRefused('J-04', { attack, genuine: g }, 'header_not_allowed');
  });

  describe('J-05 jku / x5u / x5c pointing at an attacker or internal address', () => {
    let trap: http.Server;
    let trapUrl: string;
    let trapHits = 0;
    beforeAll(async () => {
      trap = http.createServer((_req, res) => {
        trapHits++;
        res.end('{"keys":[]}');
      });
      await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
      trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => trap.close(() => r())));

    /** Runs `fn` with every way out of this process watched; returns what tried to leave (the verifier's own port excepted). */
    async function watchOutbound(fn: () => Promise<unknown>): Promise<string[]> {
      const verifierPort = Number(new URL(url).port);
      const outbound: string[] = [];
      const spies = [
        vi.spyOn(http, 'request').mockImplementation(((...args: unknown[]) => {
          outbound.push(`http.request ${JSON.stringify(args[0])}`);
          throw new Error('outbound http.request');
        }) as never),
        vi.spyOn(http, 'get').mockImplementation(((...args: unknown[]) => {
          outbound.push(`http.get ${JSON.stringify(args[0])}`);
          throw new Error('outbound http.get');
        }) as never),
        vi.spyOn(https, 'request').mockImplementation(((...args: unknown[]) => {
          outbound.push(`https.request ${JSON.stringify(args[0])}`);
          throw new Error('outbound https.request');
        }) as never),
        vi.spyOn(https, 'get').mockImplementation(((...args: unknown[]) => {
          outbound.push(`https.get ${JSON.stringify(args[0])}`);
          throw new Error('outbound https.get');
        }) as never),
        vi.spyOn(dns, 'lookup').mockImplementation(((host: string) => {
          outbound.push(`dns.lookup ${host}`);
          throw new Error('outbound dns.lookup');
        }) as never),
      ];
      // Connections: only the test's own to the verifier's port are expected.
      const realConnect = net.Socket.prototype.connect;
      const connectSpy = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
        // net.connect() hands the socket its normalised arguments as one array.
        const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
        const opts = first as { port?: number | string; host?: string; path?: string } | number;
        const port = typeof opts === 'object' ? Number(opts.port) : Number(opts);
        if (port !== verifierPort) outbound.push(`connect ${typeof opts === 'object' ? opts.host : ''}:${port}`);
        return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
      } as never);
      const realFetch = globalThis.fetch;
      const fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(((input: string | URL | Request, init?: RequestInit) => {
        const target = new URL(input instanceof Request ? input.url : input);
        if (target.origin !== url) outbound.push(`fetch ${target.href}`);
        return realFetch(input, init);
      }) as typeof fetch);
      try {
        await fn();
      } finally {
        for (const spy of [...spies, connectSpy, fetchSpy]) spy.mockRestore();
      }
      return outbound;
    }

    it('the network spy sees a fetch, a socket connect, http.get and dns.lookup (control: the watcher can fail)', async () => {
      const seen = await watchOutbound(async () => {
        await fetch(`${trapUrl}/probe`).then((r) => r.text());
        await new Promise<void>((resolve) => {
          const socket = net.connect(Number(new URL(trapUrl).port), '127.0.0.1', () => socket.end());
          socket.on('close', () => resolve());
        });
        expect(() => http.get(`${trapUrl}/x`)).toThrow();
        expect(() => dns.lookup('attacker.example', () => undefined)).toThrow();
      });
      expect(seen).toEqual(expect.arrayContaining([`fetch ${trapUrl}/probe`, `http.get "${trapUrl}/x"`, 'dns.lookup attacker.example']));
      expect(seen.some((line) => line.startsWith('connect '))).toBe(true);
      expect(trapHits).toBeGreaterThan(0);
      trapHits = 0;
    });

    it.each([
      ['jku', (t: string) => ({ jku: `${t}/jwks.json` })],
      ['jku (cloud metadata)', () => ({ jku: 'http://169.254.169.254/latest/meta-data/' })],
      ['jku (localhost)', () => ({ jku: 'http://localhost:8787/.well-known/jwks.json' })],
      ['x5u', (t: string) => ({ x5u: `${t}/cert.pem` })],
      ['x5u (internal name)', () => ({ x5u: 'https://intranet.corp.example/cert.pem' })],
      ['x5c', () => ({ x5c: ['MIIBkTCB+wIJAK'] })],
    ])('J-05 %s → 403 header_not_allowed, and the verifier makes no outbound request (network spy)', async (_name, extra) => {
      const outbound = await watchOutbound(async () => expectRefused('J-05', await resigned(header(extra(trapUrl))), 'header_not_allowed'));
      expect(outbound).toEqual([]);
      expect(trapHits).toBe(0);
    });
  });

  it.each([
    ['path traversal', 'key_unknown', '../../../../dev/null'],
    ['SQL', 'key_unknown', "' OR '1'='1"],
    ['a 10 KB string (the token over 8 KiB)', 'token_malformed', 'k'.repeat(10_000)],
    ['null', 'key_unknown', null],
    ['a number', 'key_unknown', 123],
    ['an object', 'key_unknown', {}],
    ['an unknown well-formed kid', 'key_unknown', 'A'.repeat(43)],
    ['a 128-character kid', 'key_unknown', 'k'.repeat(128)],
  ] as const)('J-06 kid as %s → %s (exact-match lookup of a plain key id only)', async (_name, code, kid) => {
    await expectRefused('J-06', await resigned(header({ kid })), code);
  });

  it('J-06 a kid that differs from the real one by one character (look-alike) → 403 key_unknown', async () => {
    const kid = alice.kid.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    await expectRefused('J-06', await resigned(header({ kid })), 'key_unknown');
  });

  it('J-06 a Unicode look-alike of the real kid (Cyrillic А) → 403 key_unknown', async () => {
    await expectRefused('J-06', await resigned(header({ kid: `\u0410${alice.kid.slice(1)}` })), 'key_unknown');
  });

  it.each([
    ['crit ["exp"]', { crit: ['exp'] }],
    ['crit ["foo"] with foo', { crit: ['foo'], foo: 1 }],
    ['crit []', { crit: [] }],
    ['crit naming alg', { crit: ['alg'] }],
  ])('J-07 %s → 403 header_not_allowed', async (_name, extra) => {
    await expectRefused('J-07', await resigned(header(extra)), 'header_not_allowed');
  });

  it('J-08 b64:false with crit ["b64"] → 403 header_not_allowed', async () => {
    await expectRefused('J-08', await resigned(header({ b64: false, crit: ['b64'] })), 'header_not_allowed');
  });

  it.each([
    ['DER-encoded', (s: Buffer) => Buffer.concat([Buffer.from([0x30, 0x44, 0x02, 0x20]), s.subarray(0, 32), Buffer.from([0x02, 0x20]), s.subarray(32)])],
    ['64 zero bytes (psychic signature, CVE-2022-21449)', () => Buffer.alloc(64)],
    ['0 bytes', () => Buffer.alloc(0)],
    ['63 bytes', (s: Buffer) => s.subarray(0, 63)],
    ['65 bytes', (s: Buffer) => Buffer.concat([s, Buffer.from([0])])],
    ['66 bytes (33-byte zero-padded halves)', (s: Buffer) => Buffer.concat([Buffer.from([0]), s.subarray(0, 32), Buffer.from([0]), s.subarray(32)])],
    ['96 bytes', (s: Buffer) => Buffer.concat([s, Buffer.alloc(32)])],
    ['r + n (33 bytes)', (s: Buffer) => Buffer.concat([int(big(s.subarray(0, 32)) + P256_N, 33), Buffer.from([0]), s.subarray(32)])],
    ['s + n', (s: Buffer) => Buffer.concat([Buffer.from([0]), s.subarray(0, 32), int(big(s.subarray(32)) + P256_N, 33)])],
    ['one bit flipped', (s: Buffer) => Buffer.from(s.map((b, i) => (i === 10 ? b ^ 1 : b)))],
    ['r and s swapped', (s: Buffer) => Buffer.concat([s.subarray(32), s.subarray(0, 32)])],
  ])('J-09 a %s signature → signature_invalid (or token_malformed when empty), nothing consumed', async (name, mangle) => {
    const g = await genuine();
    await expectRefused('J-09', { attack: withSig(g.token, mangle(sigBytes(g.token))), genuine: g }, name === '0 bytes' ? 'token_malformed' : 'signature_invalid');
  });

  it.each([
    ['an empty string', 'token_missing', () => ''],
    ['"."', 'token_malformed', () => '.'],
    ['".."', 'token_malformed', () => '..'],
    ['"...."', 'token_malformed', () => '....'],
    ['two segments', 'token_malformed', (t: string) => t.split('.').slice(0, 2).join('.')],
    ['four segments', 'token_malformed', (t: string) => `${t}.AAAA`],
    ['five segments (JWE shape)', 'token_malformed', (t: string) => `${t}.AAAA.AAAA`],
    ['a missing header', 'token_malformed', (t: string) => `.${parts(t)[1]}.${parts(t)[2]}`],
    ['a missing payload', 'token_malformed', (t: string) => `${parts(t)[0]}..${parts(t)[2]}`],
    ['a missing signature', 'token_malformed', (t: string) => `${parts(t)[0]}.${parts(t)[1]}.`],
    ['1 MB', 'token_malformed', () => 'a'.repeat(1 << 20)],
    ['100,000 dots', 'token_malformed', () => '.'.repeat(100_000)],
  ] as const)('J-10 structure: %s → %s', async (_name, code, make) => {
    const g = await genuine();
    await expectRefused('J-10', { attack: make(g.token), genuine: g }, code);
  });

  it('J-10 no token member at all → 401 token_missing', async () => {
    const answer = await verify({ request: REQUEST });
    recordAttacks('J-10 via POST /v1/verify', 1, answer.status === 200 ? 1 : 0);
    expect(answer).toMatchObject({ status: 401, code: 'token_missing' });
  });

  it.each([
    ['a space inside the signature', (t: string) => t.replace(/(.{20})$/, ' $1')],
    ['a trailing space', (t: string) => `${t} `],
    ['a newline after the header', (t: string) => t.replace('.', '.\n')],
    ['a tab before the header', (t: string) => `\t${t}`],
    ['= padding on the signature', (t: string) => `${t}=`],
    ['== padding on the payload', (t: string) => t.replace(/\.([^.]+)\./, '.$1==.')],
    ['standard-alphabet + and /', (t: string) => `${t.slice(0, -3)}+/${t.slice(-1)}`],
    ['a ? inserted', (t: string) => t.replace('.', '?.')],
    ['a # inserted', (t: string) => t.replace('.', '.#')],
    ['non-zero unused bits in the signature', (t: string) => flipUnusedBits(t)],
  ])('J-11 %s → 400 token_malformed (strict base64url), the genuine token unconsumed', async (_name, mangle) => {
    const g = await genuine();
    const attack = mangle(g.token);
    expect(attack).not.toBe(g.token);
    await expectRefused('J-11', { attack, genuine: g }, 'token_malformed');
  });

  it.each([
    ['a duplicate alg in the header', 'header', (kid: string) => `{"alg":"none","alg":"ES256","typ":"${TYP}","kid":"${kid}"}`],
    ['a BOM before the header', 'header', (kid: string) => `\uFEFF{"alg":"ES256","typ":"${TYP}","kid":"${kid}"}`],
    ['a header that is an array', 'header', () => '["ES256"]'],
    ['a payload that is an array', 'payload', () => '[]'],
    ['a payload that is a string', 'payload', () => '"x"'],
    ['a payload that is a number', 'payload', () => '1'],
    ['a duplicate claim (sub)', 'payload', () => '{"sub":"alice","sub":"mallory"}'],
    ['a deeply nested payload', 'payload', () => `${'['.repeat(3000)}${']'.repeat(3000)}`],
  ] as Array<[string, 'header' | 'payload', (kid: string) => string]>)('J-12 %s → 400 token_malformed', async (_name, where, text) => {
    const g = await genuine();
    const attack = where === 'header'
      ? await signWith(alice.privateKey, encodeBase64url(text(alice.kid)), g.claims)
      : await signWith(alice.privateKey, header(), encodeBase64url(text(alice.kid)));
    await expectRefused('J-12', { attack, genuine: g }, 'token_malformed');
  });

  it('J-12 a duplicate claim spelled with an escape ("s\\u0075b") → 400 token_malformed', async () => {
    const g = await genuine();
    const text = JSON.stringify(g.claims).replace('"sub":"alice"', '"sub":"alice","s\\u0075b":"bob"');
    await expectRefused('J-12', { attack: await signWith(alice.privateKey, header(), encodeBase64url(text)), genuine: g }, 'token_malformed');
  });

  it('J-12 invalid UTF-8 in the claims → 400 token_malformed', async () => {
    const p = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url');
    await expectRefused('J-12', { attack: await signWith(alice.privateKey, header(), p) }, 'token_malformed');
  });

  it.each([
    ['missing', undefined],
    ['"JWT"', 'JWT'],
    ['"at+jwt"', 'at+jwt'],
    ['the receipt type', 'countersign-receipt+jwt'],
    ['the log type', 'countersign-log+jwt'],
    ['different case', 'Countersign-Approval+JWT'],
    ['with a trailing space', `${TYP} `],
  ])('J-13 typ %s → 403 typ_invalid', async (_name, typ) => {
    await expectRefused('J-13', await resigned({ alg: 'ES256', ...(typ !== undefined ? { typ } : {}), kid: alice.kid }), 'typ_invalid');
  });

  it('J-13 a real log batch (same key, countersign-log+jwt) offered as an approval → 403 typ_invalid', async () => {
    const g = await genuine();
    const attack = await signWith(alice.privateKey, { alg: 'ES256', typ: 'countersign-log+jwt', kid: alice.kid }, { deviceId: alice.deviceId, events: [] });
    await expectRefused('J-13', { attack, genuine: g }, 'typ_invalid');
  });

  it('J-13 a receipt the verifier itself signed, offered as an approval → 403 (never allowed)', async () => {
    const g = await genuine();
    const allowed = await verify({ token: g.token, request: REQUEST });
    const receipt = (JSON.parse(allowed.body) as { receipt: string }).receipt;
    await expectRefused('J-13', { attack: receipt }, 'typ_invalid');
  });

  it.each([
    ['exp missing', {}, ['exp'], 'token_malformed'],
    ['iss wrong (not the key\'s device)', { iss: 'dev-other' }, [], 'key_unknown'],
    ['sub another engineer (bob) under alice\'s key', { sub: 'bob' }, [], 'key_unknown'],
    ['sub unknown', { sub: 'mallory' }, [], 'key_unknown'],
    ['aud as an array with the right audience', { aud: [TOOL, 'https://evil.example'] }, [], 'token_malformed'],
    ['aud wrong', { aud: 'https://evil.example' }, [], 'audience_mismatch'],
    ['nbf present', { nbf: 0 }, [], 'token_malformed'],
  ] as const)('J-14 claim fault: %s → %s', async (_name, patch, drop, code) => {
    await expectRefused('J-14', await resigned(header(), patch, [...drop]), code);
  });

  it("J-14 bob's kid on alice's claims (a key bound to another sub) → 403 key_unknown", async () => {
    const g = await genuine();
    await expectRefused('J-14', { attack: await signWith(bob.privateKey, { alg: 'ES256', typ: TYP, kid: bob.kid }, g.claims), genuine: g }, 'key_unknown');
  });

  it('J-14 expired beyond the 30 s skew → 403 token_expired; exactly at the skew → allowed', async () => {
    // Move the verifier's clock on, so that tokens issued 150 s ago are still after its boot epoch.
    v.clock.now += 200_000;
    const now = v.seconds();
    await expectRefused('J-14', { attack: (await mint(alice, { now: now - 151, ttlSeconds: 120 })).token }, 'token_expired');
    const boundary = await mint(alice, { now: now - 150, ttlSeconds: 120 }); // exp = now − 30
    expect((await verify({ token: boundary.token, request: REQUEST })).status).toBe(200);
  });

  it('J-14 iat beyond the skew in the future → 403 token_not_yet_valid; within it → allowed', async () => {
    await expectRefused('J-14', { attack: (await mint(alice, { now: v.seconds() + 31 })).token }, 'token_not_yet_valid');
    expect((await verify({ token: (await mint(alice, { now: v.seconds() + 30 })).token, request: REQUEST })).status).toBe(200);
  });

  it('J-14 a lifetime over the policy TTL (121 s) and over the hard cap (601 s) → 403 ttl_too_long', async () => {
    await expectRefused('J-14', { attack: (await mint(alice, { ttlSeconds: 121 })).token }, 'ttl_too_long');
    const iat = v.seconds();
    await expectRefused('J-14', await resigned(header(), { iat, exp: iat + 601 }), 'ttl_too_long');
  });

  it.each([
    ['exp as a string', { exp: 'EXP' }],
    ['exp as 1e309 (sent as a string)', { exp: '1e309' }],
    ['exp as NaN (sent as a string)', { exp: 'NaN' }],
    ['a fractional exp', { exp: 'FRACTION' }],
    ['a negative iat', { iat: -1 }],
    ['iat equal to exp', { iat: 'EXP' }],
    ['an empty jti', { jti: '' }],
    ['a numeric jti', { jti: 12345 }],
    ['a 10 KB jti', { jti: 'j'.repeat(10_000) }],
    ['a short jti (under 128 bits)', { jti: 'abc' }],
    ['a trace id in upper case', { trc: 'A'.repeat(32) }],
    ['act.dig not a digest', { act: { dig: 'x', m: 'POST', u: REQUEST.url } }],
    ['agt as an object', { agt: { id: AGENT } }],
  ])('J-15 claim type confusion: %s → 400 token_malformed', async (_name, patch) => {
    const g = await genuine();
    const exp = g.claims.exp as number;
    const resolved = Object.fromEntries(Object.entries(patch).map(([k, value]) => [k, value === 'EXP' ? (k === 'exp' ? String(exp) : exp) : value === 'FRACTION' ? exp + 0.5 : value]));
    await expectRefused('J-15', { attack: await signWith(alice.privateKey, header(), { ...g.claims, ...resolved }), genuine: g }, 'token_malformed');
  });

  it('J-16 a bad signature on an expired token → 403 signature_invalid; its (iss, jti) is not consumed', async () => {
    const g = await genuine();
    // The same iss and jti as the genuine token, expired, signed by someone else.
    const attacker = await generateEs256KeyPair();
    const attack = await signWith(attacker.privateKey, header(), { ...g.claims, iat: v.seconds() - 1000, exp: v.seconds() - 900 });
    await expectRefused('J-16', { attack, genuine: g }, 'signature_invalid');
  });

  it.each([
    ['use "enc"', (jwk: Record<string, unknown>) => ({ ...jwk, use: 'enc' })],
    ['key_ops without verify', (jwk: Record<string, unknown>) => ({ ...jwk, key_ops: ['encrypt'] })],
    ['a private key (d)', (jwk: Record<string, unknown>) => ({ ...jwk, d: 'AAAA' })],
    ['kty RSA with crv P-256', (jwk: Record<string, unknown>) => ({ ...jwk, kty: 'RSA' })],
    ['crv P-384', (jwk: Record<string, unknown>) => ({ ...jwk, crv: 'P-384' })],
    ['a point not on the curve', (jwk: Record<string, unknown>) => ({ ...jwk, y: jwk.x })],
    ['an oct key', () => ({ kty: 'oct', k: 'c2VjcmV0' })],
  ])('J-17 enrolling a key with %s → 400 payload_invalid, the code unspent, its tokens key_unknown', async (_name, spoil) => {
    const pair = await generateEs256KeyPair();
    const jwk = (await exportEs256PublicJwk(pair.publicKey)) as unknown as Record<string, unknown>;
    const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
    const res = await fetch(`${url}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, publicKeyJwk: spoil(jwk), label: 'spoilt' }) });
    recordAttacks('J-17 via POST /v1/enroll', 1, res.status === 201 ? 1 : 0);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_invalid');
    const { jwkThumbprint } = await import('@/lib/protocol');
    const kid = await jwkThumbprint(jwk as never);
    const g = await genuine();
    await expectRefused('J-17', { attack: await signWith(pair.privateKey, { alg: 'ES256', typ: TYP, kid }, g.claims), genuine: g }, 'key_unknown');
    // The code was not spent by the refused key.
    const ok = await fetch(`${url}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, publicKeyJwk: jwk, label: 'good' }) });
    expect(ok.status).toBe(201);
  });

  it.each([
    ['zip "DEF"', { zip: 'DEF' }, 'header_not_allowed'],
    ['enc (a JWE header)', { enc: 'A128GCM' }, 'header_not_allowed'],
    ['PBES2 with a huge p2c', { alg: 'PBES2-HS256+A128KW', p2c: 2 ** 31, p2s: 'AAAA' }, 'alg_not_allowed'],
  ] as const)('J-18 %s → %s, never decompressed or decrypted', async (_name, extra, code) => {
    await expectRefused('J-18', await resigned(header(extra)), code);
  });

  it('J-18 a five-part JWE compact token → 400 token_malformed', async () => {
    const h = encodeBase64url(JSON.stringify({ alg: 'dir', enc: 'A128GCM', zip: 'DEF', kid: alice.kid }));
    await expectRefused('J-18', { attack: `${h}..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA` }, 'token_malformed');
  });
});

// ---------- A- cases ----------

describe('A-: approval-token semantics via POST /v1/verify', () => {
  it('A-01 the same token twice → 200, then 409 replayed with its trace id', async () => {
    const g = await genuine();
    expect((await verify({ token: g.token, request: REQUEST })).status).toBe(200);
    const again = await verify({ token: g.token, request: REQUEST });
    recordAttacks('A-01 via POST /v1/verify', 1, again.status === 200 ? 1 : 0);
    expect(again).toMatchObject({ status: 409, code: 'replayed' });
    expect(JSON.parse(again.body)).toMatchObject({ error: { traceId: g.traceId } });
    expect(await decisionsOf(g.traceId)).toEqual(['allow', 'replayed']);
  });

  it('A-02 30 concurrent uses of one token over HTTP → exactly one 200, 29 replayed', async () => {
    const g = await genuine();
    const answers = await Promise.all(Array.from({ length: 30 }, () => verify({ token: g.token, request: REQUEST })));
    const allowed = answers.filter((a) => a.status === 200).length;
    recordAttacks('A-02 via POST /v1/verify (30 concurrent)', 29, Math.max(0, allowed - 1));
    expect(allowed).toBe(1);
    expect(answers.filter((a) => a.code === 'replayed')).toHaveLength(29);
  });

  it('A-03 a malleated (r, n−s) copy after the original → 409 replayed', async () => {
    const g = await genuine();
    expect((await verify({ token: g.token, request: REQUEST })).status).toBe(200);
    const twin = malleate(g.token);
    expect(twin).not.toBe(g.token);
    await expectRefused('A-03', { attack: twin }, 'replayed');
  });

  it('A-03 the malleated copy first → allowed once (a valid signature), then the original → 409 replayed', async () => {
    const g = await genuine();
    expect((await verify({ token: malleate(g.token), request: REQUEST })).status).toBe(200);
    await expectRefused('A-03', { attack: g.token }, 'replayed');
    await expectRefused('A-03', { attack: malleate(g.token) }, 'replayed');
  });

  it.each([
    ['whitespace', (t: string) => t.replace('.', '. ')],
    ['= padding', (t: string) => `${t}=`],
    ['unused bits', (t: string) => flipUnusedBits(t)],
    ['the malleated copy with padding', (t: string) => `${malleate(t)}=`],
  ])('A-03 a base64 variant (%s) of a consumed token → refused (token_malformed), never a second allow', async (_name, variant) => {
    const g = await genuine();
    expect((await verify({ token: g.token, request: REQUEST })).status).toBe(200);
    await expectRefused('A-03', { attack: variant(g.token) }, 'token_malformed');
  });

  it.each([
    ['another body', { body: '{"body":"Make the dataset public.","author_kind":"assistant"}' }],
    ['another method', { method: 'PUT' }],
    ['another path (target resource)', { url: `${TOOL}/api/topics/2/replies` }],
    ['another query', { url: `${REQUEST.url}?force=1` }],
    ['another content type', { contentType: 'text/plain' }],
    ['a number formatted differently', { body: '{"body":"Try revoking the group grant.","author_kind":"assistant","n":1.0}' }],
    ['a Unicode-normalisation variant', { body: '{"body":"Try revoking the group grant\u0301.","author_kind":"assistant"}' }],
  ])('A-04 the token used for %s → 403 action_mismatch, the genuine request still allowed once', async (_name, patch) => {
    const g = await genuine();
    await expectRefused('A-04', { attack: g.token, request: { ...REQUEST, ...patch }, genuine: g }, 'action_mismatch');
  });

  it('A-04 a genuine token with a request body nested 100,000 deep → 400 payload_invalid (not a 5xx), the token unconsumed', async () => {
    const g = await genuine();
    await expectRefused('A-04', { attack: g.token, request: { ...REQUEST, body: `${'['.repeat(100_000)}${']'.repeat(100_000)}` }, genuine: g }, 'payload_invalid');
  });

  it('A-04 an equivalent request (JSON key order and spacing, lower-case method, a fragment) is the same action → allowed', async () => {
    const g = await genuine();
    const same = { ...REQUEST, method: 'post', url: `${REQUEST.url}#x`, body: '{ "author_kind":"assistant", "body":"Try revoking the group grant." }' };
    expect((await verify({ token: g.token, request: same })).status).toBe(200);
  });

  it('A-04 a token for another agent than the tool\'s principal → 403 action_mismatch', async () => {
    const g = await genuine();
    await expectRefused('A-04', { attack: g.token, principal: { kind: 'agent', id: 'agent:access-helper' }, genuine: g }, 'action_mismatch');
  });

  it('A-05 a token for tool X sent for tool Y → 403 audience_mismatch', async () => {
    const g = await genuine();
    await expectRefused('A-05', { attack: g.token, request: { ...REQUEST, url: 'http://localhost:8081/api/topics/1/replies' }, genuine: g }, 'audience_mismatch');
  });

  it('A-06 exp one second past the skew → 403 token_expired (the verifier\'s clock moved on)', async () => {
    const g = await genuine({ ttlSeconds: 60 });
    v.clock.now += (60 + 31) * 1000;
    try {
      await expectRefused('A-06', { attack: g.token }, 'token_expired');
    } finally {
      v.clock.now -= (60 + 31) * 1000;
    }
  });

  it('A-07 after a restart a consumed token is still refused, and an unused one issued before the new boot epoch too', async () => {
    const used = await genuine();
    expect((await verify({ token: used.token, request: REQUEST })).status).toBe(200);
    const unused = await genuine();
    v.clock.now += 5000;
    await v.restart();
    url = await v.app.listen({ port: 0, host: '127.0.0.1' });
    await expectRefused('A-07', { attack: used.token }, 'token_expired');
    await expectRefused('A-07', { attack: unused.token }, 'token_expired');
    expect((await verify({ token: (await genuine()).token, request: REQUEST })).status).toBe(200);
  });

  it('A-09 a revoked key → 403 key_revoked, even for an unexpired token', async () => {
    const carol = await v.enroll('carol');
    await v.registerAgent('agent:carol-helper', 'carol', ['forum.post'], [TOOL]);
    const { token } = await v.mint(carol, { request: REQUEST, agent: 'agent:carol-helper' });
    expect((await v.admin('POST', `/v1/admin/devices/${carol.kid}/revoke`)).statusCode).toBe(200);
    await expectRefused('A-09', { attack: token }, 'key_revoked');
  });

  it.each([
    ['bob approving alice\'s agent', () => v.mint(bob, { request: REQUEST, agent: AGENT }), 'approver_not_authorized'],
    ['an unregistered agent', () => mint(alice, { agent: 'agent:stranger' }), 'approver_not_authorized'],
    ['an agent approving itself', () => mint(alice, { agent: 'alice' }), 'self_approval'],
  ] as const)('policy: %s → 403 %s', async (_name, make, code) => {
    await expectRefused('A-policy', { attack: (await make()).token }, code);
  });

  it('policy: a scope outside the agent\'s registration, on that scope\'s own route → 403 approver_not_authorized (registered scopes are enforced)', async () => {
    const request: ActionRequest = { method: 'PUT', url: `${TOOL}/api/datasets/payroll-2026/acl`, contentType: 'application/json', body: '{"readers":"all-employees"}' };
    const { token } = await mint(alice, { request, scope: 'admin.acl.write' });
    await expectRefused('A-policy', { attack: token, request, scope: 'admin.acl.write' }, 'approver_not_authorized');
  });
});

// ---------- the route's scope and the receipt's content ----------

describe('A-: what is approved is what runs — scope and receipt content via POST /v1/verify', () => {
  it('scope confusion: a forum.post token on the admin.acl.write route → 403 action_mismatch, the genuine token unconsumed', async () => {
    const g = await genuine();
    await expectRefused('scope confusion', { attack: g.token, scope: 'admin.acl.write', genuine: g }, 'action_mismatch');
  });

  it.each([
    ['an admin.acl.write token on the forum.post route', 'admin.acl.write', 'forum.post'],
    ['a forum.post token on a forum.post.edit route (prefix)', 'forum.post', 'forum.post.edit'],
    ['a forum.post token on a Forum.Post route (case)', 'forum.post', 'Forum.Post'],
    ['a forum.post token on a "forum.post " route (whitespace)', 'forum.post', 'forum.post '],
    ['a forum.post token on a forum.pos route (truncated)', 'forum.post', 'forum.pos'],
  ])('scope confusion: %s → 403 action_mismatch', async (_name, scp, route) => {
    const g = await genuine({ scope: scp });
    await expectRefused('scope confusion', { attack: g.token, scope: route }, 'action_mismatch');
  });

  it.each([
    ['no scope at all', { scope: undefined }],
    ['an empty scope', { scope: '' }],
    ['a scope list', { scope: ['forum.post', 'admin.acl.write'] }],
    ['a scope object', { scope: { any: true } }],
  ])('scope confusion: %s → 400 payload_invalid, the genuine token unconsumed', async (_name, patch) => {
    const g = await genuine();
    const answer = await verify({ token: g.token, request: REQUEST, ...patch });
    recordAttacks('scope confusion (schema) via POST /v1/verify', 1, answer.status === 200 ? 1 : 0);
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 400, code: 'payload_invalid' });
    expect((await verify({ token: g.token, request: REQUEST })).status).toBe(200);
  });

  it('receipt content forgery: a caller-supplied content is refused → 400 payload_invalid, the genuine token unconsumed', async () => {
    const g = await genuine();
    await expectRefused('receipt content forgery', { attack: g.token, extra: { content: 'Text nobody approved.' }, genuine: g }, 'payload_invalid');
  });

  it.each([
    ['content beside contentField', { content: 'Forged', contentField: '/body' }],
    ['an empty content', { content: '' }],
    ['a receipt-shaped member', { receipt: { cdg: 'x' } }],
    ['a cdg member', { cdg: 'AAAA' }],
  ])('receipt content forgery: %s → 400 payload_invalid', async (_name, extra) => {
    const g = await genuine();
    await expectRefused('receipt content forgery', { attack: g.token, extra, genuine: g }, 'payload_invalid');
  });

  it('receipt content forgery: the receipt binds the text the verifier read from the approved body, whatever the caller claims', async () => {
    const g = await genuine();
    const allowed = await verify({ token: g.token, request: REQUEST, contentField: '/body' });
    expect(allowed.status).toBe(200);
    const { cdg } = decodePart((JSON.parse(allowed.body) as { receipt: string }).receipt, 1);
    expect(cdg).toBe(await contentDigest('Try revoking the group grant.'));
    expect(cdg).not.toBe(await contentDigest('Text nobody approved.'));
  });

  it('receipt content forgery: a repeated form content field (shown one, posted the other) → 400 payload_invalid, nothing consumed', async () => {
    const request: ActionRequest = { ...REQUEST, contentType: 'application/x-www-form-urlencoded', body: 'body=Shown+to+the+owner&author_kind=assistant&body=Posted+by+the+tool' };
    for (const field of ['body', '/body']) {
      const g = await genuine({ request });
      await expectRefused('receipt content forgery (repeated field)', { attack: g.token, request, extra: { contentField: field } }, 'payload_invalid');
      expect(await decisionsOf(g.traceId)).toEqual(['payload_invalid']);
      const { iss, jti } = g.claims as { iss: string; jti: string };
      expect(await v.database.db.selectFrom('consumed').select('jti').where('iss', '=', iss).where('jti', '=', jti).execute()).toEqual([]);
    }
  });
});

describe('A-08 the replay store unavailable → fail closed', () => {
  it('A-08 the database closed under a running verifier → 503 verifier_unavailable, never an allow; the middleware refuses with 503', async () => {
    const w = await startVerifier('sqlite');
    try {
      const carol = await w.enroll('carol');
      await w.registerAgent(AGENT, 'carol', ['forum.post'], [TOOL]);
      const wUrl = await w.app.listen({ port: 0, host: '127.0.0.1' });
      const { token } = await w.mint(carol, { request: REQUEST, agent: AGENT });
      w.database.sqlite!.close();
      const res = await fetch(`${wUrl}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, request: REQUEST, scope: SCOPE }) });
      recordAttacks('A-08 via POST /v1/verify (store down)', 1, res.status === 200 ? 1 : 0);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('verifier_unavailable');
      const tool = await buildDemo({ verifier: remoteVerifier({ url: wUrl }), forumOrigin: TOOL, consoleOrigin: 'http://localhost:8081' });
      try {
        const before = tool.store.listReplies(1).length;
        const viaTool = await tool.forum.inject({ method: 'POST', url: '/api/topics/1/replies', headers: { host: TOOL_HOST, 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, payload: REQUEST.body! });
        recordAttacks('A-08 via Intraforum (store down)', 1, viaTool.statusCode < 300 ? 1 : 0);
        expect(viaTool.statusCode).toBe(503);
        expect(tool.store.listReplies(1).length).toBe(before);
      } finally {
        await tool.close();
      }
    } finally {
      await w.app.close();
    }
  });
});

// ---------- Wycheproof ----------

interface JwsTest { tcId: number; comment: string; jws: string; result: 'valid' | 'invalid' }
interface JwsGroup { comment: string; public?: Record<string, unknown>; tests: JwsTest[] }
const jwsFile = readVector<{ testGroups: JwsGroup[] }>('wycheproof/json_web_signature_test.json');
const wycheproof = jwsFile.testGroups.flatMap((group) => group.tests.filter((t) => ES256_JWS_TCIDS.has(t.tcId)).map((t) => ({ ...t, group })));
const vectorById = new Map(wycheproof.map((t) => [t.tcId, t]));

/**
 * Each case's manipulation, applied to a genuine approval token. Structure cases are rebuilt from the
 * token's own segments (re-signed where the case needs a signature over its new shape); signature cases
 * keep the vector's manipulated bytes, carried over to the token's own (r, s).
 */
async function wrap(tcId: number, g: { token: string; claims: Record<string, unknown> }): Promise<{ token: string; code: ErrorCode | 'allow' }> {
  const [h, p, s] = parts(g.token);
  const vector = vectorById.get(tcId)!;
  switch (tcId) {
    case 18: case 378: return { token: g.token, code: 'allow' };
    case 19: return { token: `${h}.${p}.${s[0] === 'X' ? 'Y' : 'X'}${s.slice(1)}`, code: 'signature_invalid' }; // one character of the signature changed
    case 20: return { token: `${h}.${p}.`, code: 'token_malformed' };
    case 21: return { token: `${h}.${p}`, code: 'token_malformed' };
    case 22: { // the payload changed (another jti), the signature kept
      const claims = { ...g.claims, jti: `${String(g.claims.jti).slice(0, -1)}${String(g.claims.jti).endsWith('A') ? 'B' : 'A'}` };
      return { token: `${h}.${encodeBase64url(JSON.stringify(claims))}.${s}`, code: 'signature_invalid' };
    }
    case 23: return { token: `${h}..${s}`, code: 'token_malformed' };
    case 24: return { token: `${h}.${s}`, code: 'token_malformed' };
    case 25: { // the header's kid changed (first character), the signature kept
      const kid = alice.kid.replace(/^./, (c) => (c === 'X' ? 'Y' : 'X'));
      return { token: `${encodeBase64url(JSON.stringify({ alg: 'ES256', typ: TYP, kid }))}.${p}.${s}`, code: 'key_unknown' };
    }
    case 26: return { token: `.${p}.${s}`, code: 'token_malformed' };
    case 27: return { token: `${p}.${s}`, code: 'token_malformed' };
    case 28: return { token: `.${p}.`, code: 'token_malformed' };
    case 29: return { token: p, code: 'token_malformed' };
    case 30: return { token: '', code: 'token_missing' };
    case 31: { // HS256, MACed with the EC verification key's bytes as the secret
      const hs = encodeBase64url(JSON.stringify({ alg: 'HS256', typ: TYP, kid: alice.kid }));
      const jwk = (await fetch(`${url}/.well-known/jwks.json`).then((r) => r.json())) as unknown;
      const secret = Buffer.from(JSON.stringify(jwk));
      return { token: `${hs}.${p}.${createHmac('sha256', secret).update(`${hs}.${p}`).digest('base64url')}`, code: 'alg_not_allowed' };
    }
    case 32: { // the attacker's key embedded as jwk, signed by the attacker
      const attacker = await generateEs256KeyPair();
      return { token: await signWith(attacker.privateKey, { alg: 'ES256', typ: TYP, kid: alice.kid, jwk: await exportEs256PublicJwk(attacker.publicKey) }, g.claims), code: 'header_not_allowed' };
    }
    case 354: case 356: return { token: 'ENROLL', code: 'key_unknown' }; // key hygiene: see the test body
    default: {
      // 379–401: the vector's signature bytes, with its (r, s) replaced by this token's.
      return { token: withSig(g.token, carrySignature(vector.jws, sigBytes(g.token))), code: 'signature_invalid' };
    }
  }
}

/** The vector 378's r and (n − s), which tcIds 379–385 build on; 386–401 use fixed r and s values. */
const BASE = (() => {
  const sig = Buffer.from(vectorById.get(378)!.jws.split('.')[2]!, 'base64url');
  return { r: big(sig.subarray(0, 32)), s: big(sig.subarray(32)) };
})();

function carrySignature(vectorJws: string, ours: Buffer): Buffer {
  const theirs = Buffer.from(vectorJws.split('.')[2]!, 'base64url').toString('hex');
  const r = big(ours.subarray(0, 32));
  const s = big(ours.subarray(32));
  const sNeg = P256_N - s;
  const baseSNeg = P256_N - BASE.s;
  const hex = (n: bigint, bytes: number) => n.toString(16).padStart(bytes * 2, '0');
  // Longest first, so that r + n is replaced before r.
  const pairs: Array<[string, string]> = [
    [hex(BASE.r + P256_N, 33), hex(r + P256_N, 33)],
    [hex(baseSNeg + P256_N, 33), hex(sNeg + P256_N, 33)],
    [hex(BASE.r, 32), hex(r, 32)],
    [hex(baseSNeg, 32), hex(sNeg, 32)],
    [hex(BASE.s, 32), hex(s, 32)],
  ];
  let out = theirs;
  for (const [from, to] of pairs) out = out.split(from).join(to);
  return Buffer.from(out, 'hex');
}

describe('Wycheproof json_web_signature ES256 cases (tcId 18–32, 354, 356, 378–401) wrapped as approval tokens, via HTTP', () => {
  it('has all 41 cases', () => expect(wycheproof).toHaveLength(41));

  it.each(wycheproof.map((t) => [t.tcId, t.comment, t.result] as const))('tcId %i (%s, labelled %s)', async (tcId) => {
    const g = await genuine();
    if (tcId === 354 || tcId === 356) {
      // The case is the verification key itself (use "enc", key_ops ["encrypt"]): enrollment refuses it,
      // so a token under it is signed by an unknown key.
      const pair = await generateEs256KeyPair();
      const jwk = { ...(await exportEs256PublicJwk(pair.publicKey)), ...(tcId === 354 ? { use: 'enc' } : { key_ops: ['encrypt'] }) };
      const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
      const res = await fetch(`${url}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, publicKeyJwk: jwk, label: `tcId ${tcId}` }) });
      recordAttacks(`Wycheproof tcId ${tcId} via POST /v1/enroll`, 1, res.status === 201 ? 1 : 0);
      expect(res.status).toBe(400);
      const { jwkThumbprint } = await import('@/lib/protocol');
      const kid = await jwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
      await expectRefused(`Wycheproof tcId ${tcId}`, { attack: await signWith(pair.privateKey, { alg: 'ES256', typ: TYP, kid }, g.claims), genuine: g }, 'key_unknown');
      return;
    }
    const wrapped = await wrap(tcId, g);
    if (wrapped.code === 'allow') {
      expect((await verify({ token: wrapped.token, request: REQUEST })).status).toBe(200);
      // ...and only once; its malleated twin (A-03) is a replay too.
      await expectRefused(`Wycheproof tcId ${tcId} replay`, { attack: wrapped.token }, 'replayed');
      await expectRefused(`Wycheproof tcId ${tcId} malleated`, { attack: malleate(wrapped.token) }, 'replayed');
      return;
    }
    expect(wrapped.token).not.toBe(g.token);
    await expectRefused(`Wycheproof tcId ${tcId}`, { attack: wrapped.token, genuine: g }, wrapped.code);
  });

  it('the signature cases 379–385 carry the vector\'s manipulation over to the token\'s own (r, s)', async () => {
    const g = await genuine();
    const ours = sigBytes(g.token);
    for (const tcId of range(379, 385)) {
      const carried = carrySignature(vectorById.get(tcId)!.jws, ours).toString('hex');
      const r = ours.subarray(0, 32).toString('hex');
      expect(carried.length, `tcId ${tcId}`).toBe(Buffer.from(vectorById.get(tcId)!.jws.split('.')[2]!, 'base64url').length * 2);
      expect(carried.includes(r) || carried.includes((big(ours.subarray(0, 32)) + P256_N).toString(16).padStart(66, '0')), `tcId ${tcId}`).toBe(true);
    }
  });
});

// ---------- through the middleware ----------

describe('the same tokens through a demo tool (Intraforum) with the remote middleware', () => {
  const reply = (token: string | undefined) =>
    demo.forum.inject({
      method: 'POST',
      url: '/api/topics/1/replies',
      headers: { host: TOOL_HOST, 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', ...(token !== undefined ? { 'countersign-approval': token } : {}) },
      payload: REQUEST.body!,
    });

  async function attacksFor(): Promise<Array<[string, string, ErrorCode]>> {
    const g = await genuine();
    const [h, p, s] = parts(g.token);
    const attacker = await generateEs256KeyPair();
    const list: Array<[string, string, ErrorCode]> = [
      ['J-01 alg none', `${encodeBase64url(JSON.stringify({ alg: 'none', typ: TYP, kid: alice.kid }))}.${p}.AAAA`, 'alg_not_allowed'],
      ['J-03 alg HS256', (await resigned(header({ alg: 'HS256' }))).attack!, 'alg_not_allowed'],
      ['J-04 embedded jwk', await signWith(attacker.privateKey, header({ jwk: await exportEs256PublicJwk(attacker.publicKey) }), g.claims), 'header_not_allowed'],
      ['J-05 jku', (await resigned(header({ jku: 'http://169.254.169.254/' }))).attack!, 'header_not_allowed'],
      ['J-06 SQL kid', (await resigned(header({ kid: "' OR '1'='1" }))).attack!, 'key_unknown'],
      ['J-07 crit', (await resigned(header({ crit: ['exp'] }))).attack!, 'header_not_allowed'],
      ['J-09 psychic signature', withSig(g.token, Buffer.alloc(64)), 'signature_invalid'],
      ['J-09 DER signature', withSig(g.token, Buffer.concat([Buffer.from([0x30, 0x44, 0x02, 0x20]), sigBytes(g.token).subarray(0, 32), Buffer.from([0x02, 0x20]), sigBytes(g.token).subarray(32)])), 'signature_invalid'],
      ['J-10 two segments', `${h}.${p}`, 'token_malformed'],
      ['J-11 padding', `${g.token}=`, 'token_malformed'],
      ['J-13 typ JWT', (await resigned({ alg: 'ES256', typ: 'JWT', kid: alice.kid })).attack!, 'typ_invalid'],
      ['J-14 expired', (await mint(alice, { now: v.seconds() - 200 })).token, 'token_expired'],
      ['J-14 another sub', (await resigned(header(), { sub: 'bob' })).attack!, 'key_unknown'],
      ['J-16 forged signature', `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`, 'signature_invalid'],
      ['A-04 token for another body', (await mint(alice, { request: { ...REQUEST, body: '{"body":"Make payroll public.","author_kind":"assistant"}' } })).token, 'action_mismatch'],
      ['A-05 token for another tool', (await mint(alice, { request: { ...REQUEST, url: 'http://localhost:8081/api/topics/1/replies' } })).token, 'audience_mismatch'],
      ['policy: bob approves alice\'s agent', (await v.mint(bob, { request: REQUEST, agent: AGENT })).token, 'approver_not_authorized'],
      ['A-04 a token for another agent', (await mint(alice, { agent: 'agent:access-helper' })).token, 'action_mismatch'],
    ];
    for (const tcId of [19, 22, 25, 31, 386, 391, 401]) {
      const wrapped = await wrap(tcId, await genuine());
      list.push([`Wycheproof tcId ${tcId}`, wrapped.token, wrapped.code as ErrorCode]);
    }
    return list;
  }

  it('every attack is refused by the tool with the verifier\'s code, and no reply is stored', async () => {
    const before = demo.store.listReplies(1).length;
    const attacks = await attacksFor();
    for (const [name, token, code] of attacks) {
      const res = await reply(token);
      recordAttacks(`${name} via Intraforum`, 1, res.statusCode < 300 ? 1 : 0);
      expect({ name, status: res.statusCode, code: (res.json() as { error?: { code: string } }).error?.code }).toEqual({ name, status: ERROR_STATUS[code], code });
    }
    expect(demo.store.listReplies(1).length).toBe(before);
  });

  it('no token → 401 token_missing; a genuine approval → stored once with its receipt; its replay and its malleated twin → 409', async () => {
    const before = demo.store.listReplies(1).length;
    expect((await reply(undefined)).json()).toMatchObject({ error: { code: 'token_missing' } });
    const g = await genuine();
    const ok = await reply(g.token);
    expect(ok.statusCode).toBeLessThan(300);
    for (const again of [g.token, malleate(g.token)]) {
      const res = await reply(again);
      recordAttacks('A-01/A-03 replay via Intraforum', 1, res.statusCode < 300 ? 1 : 0);
      expect(res.json()).toMatchObject({ error: { code: 'replayed' } });
    }
    expect(demo.store.listReplies(1).length).toBe(before + 1);
  });

  it('A-10 the tool\'s own work fails after the approval was consumed → the token stays consumed; a retry is a replay', async () => {
    const tool = Fastify();
    let attempts = 0;
    await tool.register(countersignFastify, { markers: MARKERS, verifier: remoteVerifier({ url }), origin: TOOL, principal: () => ({ kind: 'agent', id: AGENT }) });
    tool.post('/api/topics/:id/replies', { config: { countersign: protectionOf(FORUM_ROUTES, 'POST', '/api/topics/:id/replies') } }, async () => {
      attempts++;
      throw new Error('the disk is full');
    });
    try {
      const g = await genuine();
      const send = () => tool.inject({ method: 'POST', url: '/api/topics/1/replies', headers: { host: TOOL_HOST, 'content-type': 'application/json', 'countersign-approval': g.token }, payload: REQUEST.body! });
      expect((await send()).statusCode).toBe(500);
      const retry = await send();
      recordAttacks('A-10 retry after a failed side effect', 1, retry.statusCode < 300 ? 1 : 0);
      expect(retry.json()).toMatchObject({ error: { code: 'replayed' } });
      expect(attempts).toBe(1);
    } finally {
      await tool.close();
    }
  });
});

// ---------- small helpers ----------

function big(bytes: Buffer): bigint {
  return BigInt(`0x${bytes.toString('hex') || '0'}`);
}

function int(n: bigint, bytes: number): Buffer {
  return Buffer.from(n.toString(16).padStart(bytes * 2, '0'), 'hex');
}
