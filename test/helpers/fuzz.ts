// Endpoint fuzzing for the verifier: one in-memory verifier world (keys enrolled, tokens consumed, a log
// batch acknowledged), fast-check arbitraries for hostile requests (wrong content types, arbitrary JSON,
// near-valid mutations of valid bodies, huge and deep inputs, weird headers and paths, admin auth
// variants), and a runner that checks every answer against DESIGN.md's error shape. Node only (tests).
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ERROR_STATUS, ErrorBody, appendEvent, exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, newTraceId, signLogBatch } from '@/lib/protocol';
import type { ActionRequest, LogEvent } from '@/lib/protocol';
import { buildApp } from '../../server/app';
import { openDatabase } from '../../server/db/connect';
import { recordAttacks } from './tally';

/** Cases per endpoint: 100,000 under `npm run test:faults`, a few hundred in `npm test`. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 150);

export const FUZZ_ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef';
export const FUZZ_TOOL = 'http://127.0.0.1:8080';
export const FUZZ_REQUEST: ActionRequest = {
  method: 'POST',
  url: `${FUZZ_TOOL}/api/topics/7/replies`,
  contentType: 'application/json',
  body: '{"body":"Try revoking the group grant.","author_kind":"assistant"}',
};
/** The scope of FUZZ_REQUEST's route. */
export const FUZZ_SCOPE = 'forum.post';
/** A whole second, so the verifier's boot epoch equals it and tokens minted at it are valid. */
const T0 = 1_800_000_000_000;

export interface FuzzWorld {
  app: FastifyInstance;
  /** Tokens that were valid and are now consumed: no variant of them may ever be allowed again. */
  consumedTokens: string[];
  /** Valid request bodies, one per endpoint kind (their secrets already spent). */
  templates: {
    enroll: Record<string, unknown>;
    verify: Record<string, unknown>;
    logBatch: string;
    enrollmentCode: Record<string, unknown>;
    agent: Record<string, unknown>;
    kill: Record<string, unknown>[];
    policy: Record<string, unknown>;
  };
  kid: string;
  traceId: string;
  /** Log batches that were validly signed and acknowledged (a re-send is acknowledged again, L-02). */
  acceptedBatches: Set<string>;
  close(): Promise<void>;
}

/** An in-memory verifier (SQLite `:memory:`, no fsync) built once for a whole fuzz file. */
export async function startFuzzWorld(): Promise<FuzzWorld> {
  const database = await openDatabase({ kind: 'sqlite', file: ':memory:' });
  const app = await buildApp({ database, adminToken: FUZZ_ADMIN_TOKEN, publicUrl: 'https://verifier.corp.example', now: () => T0 });
  const admin = (method: 'POST' | 'PUT', url: string, payload: object) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${FUZZ_ADMIN_TOKEN}` }, payload });

  const { code } = (await admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
  const pair = await generateEs256KeyPair();
  const jwk = await exportEs256PublicJwk(pair.publicKey);
  const enroll = { code, publicKeyJwk: jwk, label: "alice's laptop" };
  const enrolled = await app.inject({ method: 'POST', url: '/v1/enroll', payload: enroll });
  if (enrolled.statusCode !== 201) throw new Error(`fuzz world: enroll failed (${enrolled.statusCode})`);
  const device = enrolled.json() as { kid: string; deviceId: string };
  const agent = { owner: 'alice', scopes: ['forum.post'], sites: [FUZZ_TOOL] };
  if ((await admin('PUT', '/v1/admin/agents/agent:forum-helper', agent)).statusCode !== 200) throw new Error('fuzz world: agent registration failed');

  const consumedTokens: string[] = [];
  let traceId = '';
  for (let i = 0; i < 4; i++) {
    traceId = newTraceId();
    const { token } = await mintApprovalToken({
      privateKey: pair.privateKey, kid: device.kid, deviceId: device.deviceId, userId: 'alice', request: FUZZ_REQUEST,
      agent: 'agent:forum-helper', scope: FUZZ_SCOPE, traceId, ttlSeconds: 120, now: T0 / 1000,
    });
    const res = await app.inject({ method: 'POST', url: '/v1/verify', payload: { token, request: FUZZ_REQUEST, scope: FUZZ_SCOPE } });
    if (res.statusCode !== 200) throw new Error(`fuzz world: a fresh token was refused (${res.body})`);
    consumedTokens.push(token);
  }

  let head: LogEvent | null = null;
  const events: LogEvent[] = [];
  for (let i = 0; i < 3; i++) {
    head = await appendEvent(head, { deviceId: device.deviceId, epoch: 1 }, {
      id: `e-${i}`, ts: T0 + i, type: i === 2 ? 'approved' : 'held', trc: traceId, principal: { kind: 'agent', id: 'agent:forum-helper' },
      agent: 'agent:forum-helper', tool: 'intraforum', site: FUZZ_TOOL, digest: null, diff: null, detail: { note: 'fuzz' },
    });
    events.push(head);
  }
  const logBatch = await signLogBatch(pair.privateKey, device.kid, { deviceId: device.deviceId, events });
  const acked = await app.inject({ method: 'POST', url: '/v1/log/batch', headers: { 'content-type': 'application/jose' }, payload: logBatch });
  if (acked.statusCode !== 200) throw new Error(`fuzz world: log batch refused (${acked.body})`);

  // The enrollment code above is spent; every enroll template below carries a spent code.
  return {
    app,
    consumedTokens,
    templates: {
      enroll,
      verify: { token: consumedTokens[0]!, request: FUZZ_REQUEST, scope: FUZZ_SCOPE, contentField: '/body', principal: { kind: 'agent', id: 'agent:forum-helper' }, assisted: true },
      logBatch,
      enrollmentCode: { userId: 'bob' },
      agent,
      kill: [{ scope: 'global' }, { scope: 'agent', target: 'agent:forum-helper' }, { scope: 'site', target: FUZZ_TOOL }, { scope: 'user', target: 'alice' }],
      policy: { text: 'permit (principal, action == Action::"approve", resource is User) when { resource == principal };' },
    },
    kid: device.kid,
    traceId,
    acceptedBatches: new Set([logBatch]),
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

// ---------- arbitraries ----------

/** Header-safe text (visible ASCII and spaces): light-my-request refuses control characters itself. */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 64 });
const anyText = fc.string({ unit: 'binary', maxLength: 200 });

const BIG = {
  string2MiB: 'x'.repeat(2 * 1024 * 1024 - 64),
  string5MiB: 'x'.repeat(5 * 1024 * 1024),
  deepArray: `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
  deepObject: `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
  manyKeys: JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))),
  longArray: JSON.stringify(Array.from({ length: 100_000 }, () => 0)),
  manyDots: '.'.repeat(100_000),
};

/** Inputs too big or too deep for any field: sent rarely (they are slow), but always in the mix. */
export const hugeBody = fc.constantFrom(
  BIG.string2MiB, BIG.string5MiB, BIG.deepArray, BIG.deepObject, BIG.manyKeys, BIG.longArray, BIG.manyDots,
  JSON.stringify({ token: BIG.manyDots, request: FUZZ_REQUEST }),
  JSON.stringify({ token: 'a'.repeat(9000), request: FUZZ_REQUEST }),
  `{"token":"x","request":${BIG.deepObject}}`,
  `{"code":"x","label":"x","publicKeyJwk":${BIG.deepObject}}`,
  `{"text":"${'permit (principal, action, resource);'.repeat(8000)}"}`,
);

/** JSON texts that parsers disagree on or that poison prototypes. */
const trickyJson = fc.constantFrom(
  '{"__proto__":{"admin":true},"token":"x"}',
  '{"constructor":{"prototype":{"allow":true}}}',
  '{"token":"a","token":"b"}',
  '\uFEFF{"token":"x"}',
  '{"n":1e309}', '{"n":-0}', '{"n":1.0e-400}', 'NaN', 'Infinity', '-', '[', '{', '"', '\u0000', 'null', 'true', '0', '""', '[]', '{}',
  '{"a":"\uD800"}', '{"a":"\\uD800"}', '{"a":"\\u0000"}',
);

/** Paths into a JSON value, for mutations. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

function setAt(root: unknown, path: Array<string | number>, fn: (old: unknown) => unknown | typeof DELETE): unknown {
  if (path.length === 0) {
    const next = fn(root);
    return next === DELETE ? undefined : next;
  }
  const copy: Record<string | number, unknown> | unknown[] = Array.isArray(root) ? [...root] : { ...(root as Record<string, unknown>) };
  const [head, ...rest] = path as [string | number, ...Array<string | number>];
  const child = (copy as Record<string | number, unknown>)[head];
  const next = setAt(child, rest, fn);
  if (rest.length === 0 && fn(child) === DELETE) {
    if (Array.isArray(copy)) copy.splice(head as number, 1);
    else delete (copy as Record<string, unknown>)[head];
  } else (copy as Record<string | number, unknown>)[head] = next;
  return copy;
}
const DELETE = Symbol('delete');

/** Small edits of a string: a character changed, dropped, inserted; whitespace, padding, truncation. */
export function mutateString(s: string): fc.Arbitrary<string> {
  const pos = fc.nat({ max: Math.max(0, s.length) });
  return fc.oneof(
    fc.tuple(pos, fc.constantFrom('A', 'a', '0', '-', '_', '.', '=', '+', '/', ' ', '\t', '\n', '?', '%', '\u00e9', '\u0000', 'é', '\uFEFF')).map(([i, c]) => s.slice(0, i) + c + s.slice(i)),
    pos.map((i) => s.slice(0, i) + s.slice(i + 1)),
    fc.tuple(pos, fc.constantFrom('A', 'B', 'z', '9', '-', '_')).map(([i, c]) => s.slice(0, i) + c + s.slice(i + 1)),
    pos.map((i) => s.slice(0, i)),
    fc.constantFrom(`${s}=`, `${s}==`, ` ${s}`, `${s} `, s.toUpperCase(), s.toLowerCase(), s.replace(/-/g, '+').replace(/_/g, '/'), `${s}.${s}`, s.split('.').reverse().join('.'), s.split('').reverse().join('')),
  );
}

/** Near-valid mutations of a valid JSON body: one field deleted, retyped, replaced, edited; an extra field. */
export function mutateJson(template: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(template);
  const path = fc.constantFrom(...paths);
  const inner = paths.filter((p) => p.length > 0);
  const replacement = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(null, '', 0, -1, 1e308, true, [], {}, 'x'.repeat(300), 'user:alice', 'agent:forum-helper', 'admin.acl.write', '/author_kind', '../../etc/passwd', "' OR '1'='1"),
  );
  return fc.oneof(
    fc.tuple(path, replacement).map(([p, v]) => setAt(template, p, () => v)),
    inner.length > 0 ? fc.constantFrom(...inner).map((p) => setAt(template, p, () => DELETE)) : fc.constant(undefined),
    fc.tuple(path, fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([p, k, v]) =>
      setAt(template, p, (old) => (old && typeof old === 'object' && !Array.isArray(old) ? { ...old, [k || 'extra']: v } : old))),
    path.chain((p) => {
      const old = p.reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], template);
      return typeof old === 'string' && old.length > 0 ? mutateString(old).map((s) => setAt(template, p, () => s)) : fc.constant(setAt(template, p, () => String(old)));
    }),
  );
}

export interface BodyCase {
  /** What was sent, as the text (or bytes) on the wire. */
  payload: string | Buffer | undefined;
  contentType: string | undefined;
}

/** Content types: the right one, near misses, and random text. */
function contentTypeFor(right: string | undefined): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(right) },
    { weight: 4, arbitrary: fc.constantFrom(undefined, 'application/json', 'application/jose', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'APPLICATION/JSON', 'application/json, text/plain', 'application/jose+json', 'application/merge-patch+json', 'application/octet-stream', 'application/*', ';', '') },
    { weight: 1, arbitrary: headerText },
  );
}

/** Bodies for an endpoint whose valid body is `template` (JSON), or a text body (`application/jose`). */
export function bodyArb(template: unknown, rightType: string | undefined): fc.Arbitrary<BodyCase> {
  const text = typeof template === 'string' ? fc.oneof(mutateString(template), fc.constant(template)) : mutateJson(template).map((v) => (v === undefined ? '' : JSON.stringify(v)));
  const payload: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
    { weight: 10, arbitrary: text },
    { weight: 3, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 2, arbitrary: anyText },
    { weight: 1, arbitrary: trickyJson },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 199 }).chain((n) => (n === 0 ? hugeBody : fc.constant(typeof template === 'string' ? template : JSON.stringify(template)))) },
  );
  return fc.record({ payload, contentType: contentTypeFor(rightType) });
}

export type AuthKind = 'none' | 'wrong' | 'right';

/** Authorization headers: none, near misses of the admin token, random text, or the right one. */
export const authArb: fc.Arbitrary<{ kind: AuthKind; header: string | undefined }> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const, header: undefined }) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constantFrom(`bearer ${FUZZ_ADMIN_TOKEN}`, `Bearer  ${FUZZ_ADMIN_TOKEN}`, `Bearer ${FUZZ_ADMIN_TOKEN} `, `Bearer ${FUZZ_ADMIN_TOKEN.slice(0, -1)}`, `Bearer ${FUZZ_ADMIN_TOKEN}x`, `Basic ${Buffer.from(`admin:${FUZZ_ADMIN_TOKEN}`).toString('base64')}`, FUZZ_ADMIN_TOKEN, 'Bearer ', 'Bearer', ''),
      headerText.map((t) => `Bearer ${t}`),
      headerText,
    ).map((header) => ({ kind: 'wrong' as const, header })),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'right' as const, header: `Bearer ${FUZZ_ADMIN_TOKEN}` }) },
);

/** Extra headers that should change nothing: encodings, forwarding, ids, huge values, an approval header. */
export const extraHeadersArb: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  {
    weight: 4,
    arbitrary: fc.dictionary(
      fc.constantFrom('content-encoding', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'request-id', 'x-request-id', 'accept', 'accept-encoding', 'countersign-approval', 'x-assistant', 'cookie', 'origin', 'expect', 'x-http-method-override', 'if-none-match', 'range'),
      fc.oneof(headerText, fc.constantFrom('gzip', 'deflate', 'br', 'identity, gzip', '100-continue', 'DELETE', '*/*', 'x'.repeat(8000), '127.0.0.1, 10.0.0.1', 'bytes=0-1')),
      { maxKeys: 3 },
    ),
  },
);

/** The path as sent: exact, with a trailing slash or a query, upper case, doubled slashes, encoded characters. */
export function pathArb(path: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(path) },
    {
      weight: 3,
      arbitrary: fc.oneof(
        fc.constantFrom(`${path}/`, path.toUpperCase(), path.replace(/\//g, '//'), path.replace('/v1/', '/v1/./'), path.replace('/v1/', '/v2/../v1/'), path.replace(/^\/(.)/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16)}`), `${path}%00`, `${path}#x`, `${path};x=1`, `${path}?`, `${path}??=`),
        fc.webQueryParameters().map((q) => `${path}?${q}`),
        fc.webSegment().map((s) => `${path}/${s}`),
      ),
    },
  );
}

// ---------- the runner ----------

export interface EndpointSpec {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path (possibly with fuzzed parameters). */
  path: fc.Arbitrary<string>;
  admin: boolean;
  body: fc.Arbitrary<BodyCase> | null;
  /**
   * Whether a 2xx answer to this case would mean something was let through that no one authorised:
   * a consumed or tampered token allowed, an unauthenticated admin call obeyed, a spent code redeemed.
   */
  unauthorizedIf2xx(sent: { auth: AuthKind; body: BodyCase | null }): boolean;
}

export interface FuzzOutcome {
  sent: number;
  unauthorized: number;
  statuses: Map<number, number>;
}

/** Checks one answer: never a 5xx; a refusal is DESIGN.md's JSON error with a known code and its status. */
export function assertAnswer(res: LightMyRequestResponse, secrets: string[]): void {
  if (res.statusCode >= 500) throw new Error(`a ${res.statusCode} answer: ${res.body.slice(0, 300)}`);
  if (res.statusCode < 400) return;
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    throw new Error(`a ${res.statusCode} answer that is not JSON: ${res.body.slice(0, 200)}`);
  }
  const parsed = ErrorBody.safeParse(json);
  if (!parsed.success) throw new Error(`a ${res.statusCode} answer not in DESIGN.md's error shape: ${res.body.slice(0, 300)}`);
  if (ERROR_STATUS[parsed.data.error.code as keyof typeof ERROR_STATUS] !== res.statusCode) throw new Error(`${parsed.data.error.code} answered with ${res.statusCode}`);
  for (const secret of secrets) if (secret.length >= 16 && res.body.includes(secret)) throw new Error('a refusal echoed a token or secret');
}

/** Sends FUZZ_RUNS hostile requests to one endpoint; records them in the tally; throws on the first bad answer. */
export async function fuzzEndpoint(app: FastifyInstance, spec: EndpointSpec, secrets: string[], runs = FUZZ_RUNS): Promise<FuzzOutcome> {
  const outcome: FuzzOutcome = { sent: 0, unauthorized: 0, statuses: new Map() };
  const caseArb = fc.record({
    path: spec.path,
    auth: spec.admin ? authArb : fc.oneof({ weight: 9, arbitrary: fc.constant({ kind: 'none' as const, header: undefined }) }, { weight: 1, arbitrary: authArb }),
    headers: extraHeadersArb,
    body: spec.body ?? fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: bodyArb({}, 'application/json') }),
  });
  try {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ path, auth, headers, body }) => {
        const res = await app.inject({
          method: spec.method,
          url: path,
          headers: {
            ...headers,
            ...(auth.header !== undefined ? { authorization: auth.header } : {}),
            ...(body?.contentType !== undefined ? { 'content-type': body.contentType } : {}),
          },
          ...(body?.payload !== undefined ? { payload: body.payload } : {}),
        });
        outcome.sent++;
        // app.inject settles on microtasks only: without a turn of the event loop now and then, the
        // requests' deferred cleanup (setImmediate) never runs and the heap grows by ~10 KB a case.
        if (outcome.sent % 200 === 0) await new Promise((r) => setImmediate(r));
        outcome.statuses.set(res.statusCode, (outcome.statuses.get(res.statusCode) ?? 0) + 1);
        assertAnswer(res, secrets);
        // A path with dot segments (`/metrics/..`) is resolved before routing, as WHATWG URL parsing does;
        // one that lands on the public discovery document (`GET /`) reached no protected endpoint.
        const landsOnPublicRoot = URL.parse(`http://verifier.test${path.startsWith('/') ? '' : '/'}${path}`)?.pathname === '/';
        if (landsOnPublicRoot && res.statusCode < 300 && !res.body.includes('"name":"Countersign verifier"')) {
          throw new Error(`${spec.name}: ${path} answered ${res.statusCode} with something other than the discovery document`);
        }
        if (res.statusCode < 300 && !landsOnPublicRoot && spec.unauthorizedIf2xx({ auth: auth.kind, body })) {
          outcome.unauthorized++;
          throw new Error(`${spec.name}: a hostile request was accepted (${res.statusCode})`);
        }
      }),
      { numRuns: runs, endOnFailure: true },
    );
  } finally {
    recordAttacks(`fuzz ${spec.name}`, outcome.sent, outcome.unauthorized);
  }
  return outcome;
}
