// Endpoint fuzzing for the verifier: one in-memory verifier world (keys enrolled with a WebAuthn credential, tokens consumed, a log
// batch acknowledged, an agent key issued and another revoked, device proofs spent), fast-check
// arbitraries for hostile requests (wrong content types, arbitrary JSON, near-valid mutations of valid
// bodies, huge and deep inputs, weird headers and paths, admin, agent-key and device-proof auth
// variants), and a runner that checks every answer against DESIGN.md's error shape. The lists of
// fuzzed endpoints are here too, so that one test can hold them to the routes the verifier registers.
// Node only (tests).
import { Buffer } from 'node:buffer';
import { connect } from 'node:net';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ERROR_STATUS, ErrorBody, appendEvent, exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, mintDeviceProof, newTraceId, signLogBatch } from '@/lib/protocol';
import type { ActionRequest, LogEvent } from '@/lib/protocol';
import { buildApp } from '../../server/app';
import { openDatabase } from '../../server/db/connect';
import { recordAttacks } from './tally';
import { registerCredential } from './webauthn';

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
/** The verifier's configured public URL: device proofs bind it, never a Host the client sent. */
export const FUZZ_PUBLIC_URL = 'https://verifier.corp.example';
/** The registered agent of the world (its keys, its registration). */
export const FUZZ_AGENT = 'agent:forum-helper';

/**
 * Every route the verifier registers (HEAD routes excepted: Fastify adds one per GET), as the fuzz
 * files name them: `METHOD /path`, path parameters as `{name}`. fuzz-endpoints.test.ts holds this
 * list to the built app's routes, so a new route cannot go unfuzzed.
 */
export const PUBLIC_ENDPOINTS = [
  'GET /', 'POST /v1/enroll', 'POST /v1/verify', 'POST /v1/log/batch', 'GET /v1/status', 'GET /.well-known/jwks.json',
  'GET /v1/extension-policy', 'POST /v1/receipts/lookup', 'GET /v1/agents/me',
  'POST /v1/proposals', 'GET /v1/proposals/{id}', 'GET /v1/proposals', 'POST /v1/proposals/{id}/decision',
  'POST /v1/proposals/held', 'POST /v1/approval-plan', 'GET /v1/policy-bot/approvals', 'GET /v1/policy-bot/keys',
] as const;
export const ADMIN_ENDPOINTS = [
  'POST /v1/admin/enrollment-codes', 'PUT /v1/admin/agents/{agentId}', 'POST /v1/admin/agents/{agentId}/keys', 'DELETE /v1/admin/agents/{agentId}/keys/{keyId}',
  'POST /v1/admin/kill', 'DELETE /v1/admin/kill', 'POST /v1/admin/devices/{kid}/revoke', 'GET /v1/admin/devices', 'GET /v1/admin/events', 'GET /v1/admin/policy', 'PUT /v1/admin/policy',
  'GET /v1/admin/extension-policy', 'PUT /v1/admin/extension-policy', 'POST /v1/admin/receipt-keys/rotate', 'POST /v1/admin/policy-bots/{name}/rotate', 'GET /metrics',
] as const;

/** The routes a built app registers, from Fastify's route tree (`printRoutes({ commonPrefix: false })`), named as above. */
export function registeredRoutes(app: FastifyInstance): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = [...m[1]!].length / 4;
    const path = (depth === 0 ? '' : stack[depth - 1]!) + m[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return routes;
}

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
    receiptLookup: Record<string, unknown>;
    extensionPolicy: Record<string, unknown>;
    proposal: Record<string, unknown>;
    decision: Record<string, unknown>;
    heldPublication: Record<string, unknown>;
    approvalPlan: Record<string, unknown>;
  };
  /** A pending proposal of FUZZ_AGENT's that alice may decide. */
  proposalId: string;
  kid: string;
  traceId: string;
  /** alice's device key: the fuzzers mint device proofs with it (the right credential of device-authenticated routes). */
  device: { privateKey: CryptoKey; kid: string };
  /** Device proofs that were valid once and are spent: replayed, they must be refused. */
  spentProofs: { receiptLookup: string[]; extensionPolicy: string[]; proposals: string[]; decision: string[] };
  /** A live agent key of FUZZ_AGENT, and a revoked one (its `keyId` too). */
  agentKey: { key: string; keyId: string };
  revokedAgentKey: { key: string; keyId: string };
  /** Log batches that were validly signed and acknowledged (a re-send is acknowledged again, L-02). */
  acceptedBatches: Set<string>;
  close(): Promise<void>;
}

/** An in-memory verifier (SQLite `:memory:`, no fsync) built once for a whole fuzz file. */
export async function startFuzzWorld(): Promise<FuzzWorld> {
  const database = await openDatabase({ kind: 'sqlite', file: ':memory:' });
  const app = await buildApp({ database, adminToken: FUZZ_ADMIN_TOKEN, publicUrl: FUZZ_PUBLIC_URL, now: () => T0 });
  const admin = (method: 'POST' | 'PUT', url: string, payload: object) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${FUZZ_ADMIN_TOKEN}` }, payload });

  const { code } = (await admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
  const pair = await generateEs256KeyPair();
  const jwk = await exportEs256PublicJwk(pair.publicKey);
  // With a credential, so that the fuzzed enroll bodies reach the credential's checks too.
  const { credential } = await registerCredential(jwk);
  const enroll = { code, publicKeyJwk: jwk, label: "alice's laptop", credential };
  const enrolled = await app.inject({ method: 'POST', url: '/v1/enroll', payload: enroll });
  if (enrolled.statusCode !== 201) throw new Error(`fuzz world: enroll failed (${enrolled.statusCode})`);
  const device = enrolled.json() as { kid: string; deviceId: string };
  const agent = { owner: 'alice', scopes: ['forum.post'], sites: [FUZZ_TOOL] };
  if ((await admin('PUT', `/v1/admin/agents/${FUZZ_AGENT}`, agent)).statusCode !== 200) throw new Error('fuzz world: agent registration failed');

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

  const keyOf = async () => {
    const res = await app.inject({ method: 'POST', url: `/v1/admin/agents/${FUZZ_AGENT}/keys`, headers: { authorization: `Bearer ${FUZZ_ADMIN_TOKEN}` } });
    if (res.statusCode !== 201) throw new Error(`fuzz world: agent key refused (${res.body})`);
    return res.json() as { key: string; keyId: string };
  };
  const agentKey = await keyOf();
  const revokedAgentKey = await keyOf();
  const revoked = await app.inject({ method: 'DELETE', url: `/v1/admin/agents/${FUZZ_AGENT}/keys/${revokedAgentKey.keyId}`, headers: { authorization: `Bearer ${FUZZ_ADMIN_TOKEN}` } });
  if (revoked.statusCode !== 200 || (await app.inject({ method: 'GET', url: '/v1/agents/me', headers: { authorization: `Bearer ${agentKey.key}` } })).statusCode !== 200) {
    throw new Error('fuzz world: agent key revocation or lookup failed');
  }

  const receiptLookup = { site: FUZZ_TOOL, cdgs: ['A'.repeat(43), 'b'.repeat(42) + 'A'] };
  const spentProofs: FuzzWorld['spentProofs'] = { receiptLookup: [], extensionPolicy: [], proposals: [], decision: [] };
  for (let i = 0; i < 3; i++) {
    const proof = (method: string, path: string) => mintDeviceProof({ privateKey: pair.privateKey, kid: device.kid, method, url: `${FUZZ_PUBLIC_URL}${path}`, now: T0 / 1000 });
    const lookup = await proof('POST', '/v1/receipts/lookup');
    const policy = await proof('GET', '/v1/extension-policy');
    const a = await app.inject({ method: 'POST', url: '/v1/receipts/lookup', headers: { authorization: lookup }, payload: receiptLookup });
    const b = await app.inject({ method: 'GET', url: '/v1/extension-policy', headers: { authorization: policy } });
    if (a.statusCode !== 200 || b.statusCode !== 200) throw new Error(`fuzz world: a fresh device proof was refused (${a.body} ${b.body})`);
    spentProofs.receiptLookup.push(lookup);
    spentProofs.extensionPolicy.push(policy);
  }

  // Proposals: one left pending for the fuzzers; others decided with device proofs that are then spent.
  const proposal = { request: FUZZ_REQUEST, scope: FUZZ_SCOPE, summary: 'Reply to the thread', contentField: '/body' };
  const propose = async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/proposals', headers: { authorization: `Bearer ${agentKey.key}` }, payload: proposal });
    if (res.statusCode !== 201) throw new Error(`fuzz world: a proposal was refused (${res.body})`);
    return (res.json() as { id: string }).id;
  };
  const proposalId = await propose();
  for (let i = 0; i < 2; i++) {
    const proof = (method: string, path: string) => mintDeviceProof({ privateKey: pair.privateKey, kid: device.kid, method, url: `${FUZZ_PUBLIC_URL}${path}`, now: T0 / 1000 });
    const decided = await propose();
    const list = await proof('GET', '/v1/proposals?state=pending');
    const decision = await proof('POST', `/v1/proposals/${decided}/decision`);
    const a = await app.inject({ method: 'GET', url: '/v1/proposals?state=pending', headers: { authorization: list } });
    const b = await app.inject({ method: 'POST', url: `/v1/proposals/${decided}/decision`, headers: { authorization: decision }, payload: { reject: { reason: 'not now' } } });
    if (a.statusCode !== 200 || b.statusCode !== 200) throw new Error(`fuzz world: a fresh device proof was refused (${a.body} ${b.body})`);
    spentProofs.proposals.push(list);
    spentProofs.decision.push(decision);
  }

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
      receiptLookup,
      extensionPolicy: {
        protectedSites: ['http://127.0.0.1:8080/*'],
        assistantAccounts: ['assistant'],
        approvalTtlSeconds: 90,
        adapters: [{ id: 'wiki', match: ['http://wiki.corp:8090/*'], actions: [{ scope: 'wiki.edit', request: { method: 'POST', url: '/api.php' }, content: 'text' }] }],
      },
      proposal,
      // A consumed token approves another request: never a publication of this one.
      heldPublication: { request: FUZZ_REQUEST, scope: FUZZ_SCOPE, summary: 'Reply to the thread', contentField: '/body', approve: consumedTokens[1]! },
      approvalPlan: { request: FUZZ_REQUEST, scope: FUZZ_SCOPE, agent: 'agent:forum-helper', traceId: '0af7651916cd43dd8448eb211c80319c', contentField: '/body' },
      // A consumed token approves another request: never an approval of this proposal.
      decision: { approve: consumedTokens[0]! },
    },
    proposalId,
    kid: device.kid,
    traceId,
    device: { privateKey: pair.privateKey, kid: device.kid },
    spentProofs,
    agentKey,
    revokedAgentKey,
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

/** One case's credential: a fixed header, or one minted for the exact request sent (a device proof). */
export interface AuthCase {
  kind: AuthKind;
  header: string | undefined;
  mint?: (method: string, path: string) => Promise<string>;
}

/** RFC 9110: the auth scheme is case-insensitive; `Bearer <the live key>` in any case is the right credential. */
function bearerKind(header: string | undefined, key: string): AuthKind {
  if (header === undefined) return 'none';
  return /^bearer (\S+)$/i.exec(header)?.[1] === key ? 'right' : 'wrong';
}

/**
 * `Authorization` for agent-authenticated routes: none, the revoked key, near misses of the live key
 * (a character changed, dropped, added; padding, spacing, another scheme), the admin token, random
 * text, or the live key. Each case is classified by what it carries, not by how it was made.
 */
export function agentAuthArb(w: FuzzWorld): fc.Arbitrary<AuthCase> {
  const { key } = w.agentKey;
  const header = fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.constantFrom(`Bearer ${key}`, `bearer ${key}`, `BEARER ${key}`) },
    { weight: 1, arbitrary: fc.constantFrom(`Bearer ${w.revokedAgentKey.key}`, `bearer ${w.revokedAgentKey.key}`) },
    {
      weight: 4,
      arbitrary: fc.oneof(
        mutateString(key).map((k) => `Bearer ${k}`),
        fc.constantFrom(`Bearer  ${key}`, `Bearer ${key} `, `Bearer\t${key}`, `Basic ${Buffer.from(`agent:${key}`).toString('base64')}`, key, `Bearer ${key},${key}`, `Bearer ${FUZZ_ADMIN_TOKEN}`, `Countersign-Device ${key}`, 'Bearer csa_', `Bearer ${key.toUpperCase()}`, `Bearer ${key.slice(0, -1)}A`),
        headerText.map((t) => `Bearer csa_${t}`),
        headerText,
      ),
    },
  );
  return header.map((h) => ({ kind: bearerKind(h, key), header: h }));
}

/**
 * `Authorization: Countersign-Device <JWS>` for device-authenticated routes: none; spent proofs as they
 * were and edited; a proof for the other device route; proofs minted now but for another method, for
 * a time outside the 60 s window; other schemes and random text; or (the right credential) a fresh
 * proof minted for exactly this method and path.
 */
export function deviceAuthArb(w: FuzzWorld, spent: readonly string[], other: readonly string[]): fc.Arbitrary<AuthCase> {
  const { privateKey, kid } = w.device;
  const mint = (override: { method?: string; now?: number }) => (method: string, path: string) =>
    mintDeviceProof({ privateKey, kid, method: override.method ?? method, url: `${FUZZ_PUBLIC_URL}${path.startsWith('/') ? path : '/'}`, now: override.now ?? T0 / 1000 }).catch(() => 'Countersign-Device x.y.z');
  const wrong = (header: string | undefined): AuthCase => ({ kind: header === undefined ? 'none' : 'wrong', header });
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(wrong(undefined)) },
    { weight: 3, arbitrary: fc.constant<AuthCase>({ kind: 'right', header: undefined, mint: mint({}) }) },
    {
      weight: 4,
      arbitrary: fc.oneof(
        fc.constantFrom(...spent, ...other).map(wrong),
        fc.constantFrom(...spent).chain((p) => mutateString(p.slice('Countersign-Device '.length))).map((jws) => wrong(`Countersign-Device ${jws}`)),
        fc.constantFrom(...spent).map((p) => wrong(p.replace('Countersign-Device ', 'countersign-device '))),
        fc.constantFrom('DELETE', 'PUT', 'PATCH').map((m): AuthCase => ({ kind: 'wrong', header: undefined, mint: mint({ method: m }) })),
        fc.constantFrom(T0 / 1000 - 61, T0 / 1000 + 61, 0).map((now): AuthCase => ({ kind: 'wrong', header: undefined, mint: mint({ now }) })),
        fc.constantFrom(`Bearer ${FUZZ_ADMIN_TOKEN}`, `Bearer ${w.agentKey.key}`, 'Countersign-Device', 'Countersign-Device ', `Countersign-Device ${w.consumedTokens[0]!}`).map(wrong),
        headerText.map((t) => wrong(`Countersign-Device ${t}`)),
      ),
    },
  );
}

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
  /** The credentials sent; default: admin tokens (authArb) on admin routes, mostly none elsewhere. */
  auth?: fc.Arbitrary<AuthCase>;
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
    auth: spec.auth ?? (spec.admin ? (authArb as fc.Arbitrary<AuthCase>) : fc.oneof({ weight: 9, arbitrary: fc.constant<AuthCase>({ kind: 'none', header: undefined }) }, { weight: 1, arbitrary: authArb as fc.Arbitrary<AuthCase> })),
    headers: extraHeadersArb,
    body: spec.body ?? fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: bodyArb({}, 'application/json') }),
  });
  try {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ path, auth, headers, body }) => {
        const authorization = auth.mint ? await auth.mint(spec.method, path) : auth.header;
        const res = await app.inject({
          method: spec.method,
          url: path,
          headers: {
            ...headers,
            ...(authorization !== undefined ? { authorization } : {}),
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

// ---------- the gateway: hostile requests as raw bytes ----------
//
// A case is one request written byte for byte on a socket (test/security/fuzz-gateway.test.ts sends
// it): a method; a request-target (origin- or absolute-form, MediaWiki's entry points, PATH_INFO
// titles, encodings, dot segments, doubled slashes); query and form fields named and spelled as PHP
// folds names (`title%00x`, ` title`, `ti.tle`, `title[]`, repeats) holding title variants
// (`special:userrights`, `Special_:_UserRights`, NBSP, bidi marks, a leading colon, `ſ`, the Kelvin
// sign, the aliases MakeSysop and MakeBot, subpages, fragments) and bytes that are not UTF-8; form
// bodies urlencoded or multipart in odd shapes; header spellings (`X-Forwarded_User`,
// `Countersign.Approval`, repeats); chunked or Content-Length framing, Expect; from the trusted
// proxy's address or another; as a person, nobody, or with an agent key (live, revoked, forged);
// sometimes with a forged or wrong-scope approval (never a valid one).

/** The Host of the gateway world (test/helpers/gateway.ts HOST), and its origin. */
export const GATEWAY_HOST = 'wiki.corp.example:8090';
export const GATEWAY_ORIGIN = `http://${GATEWAY_HOST}`;

export type GatewayCaller = 'person' | 'nobody' | 'agent' | 'revoked agent' | 'forged key';

export interface GatewayCase {
  /** `trusted`: the authenticating proxy's address (127.0.0.1); `untrusted`: any other client (127.0.0.2). */
  peer: 'trusted' | 'untrusted';
  /** A person (the proxy's `X-Forwarded-User: alice`, or the client's own from an untrusted peer), nobody, or an agent key. */
  caller: GatewayCaller;
  /** The agent key header's spelling, for agent callers. */
  keyHeader: string;
  method: string;
  target: string;
  /** Host header values (usually one, the gateway's). */
  hosts: readonly string[];
  /** Hostile header lines, in order. */
  headers: Array<[string, string]>;
  contentType: string | null;
  /** The body as bytes (a byte string), or null. */
  body: string | null;
  framing: GatewayFraming;
  expect: string | null;
  /** Forged or wrong-scope approvals: header values and a body field (urlencoded bodies only). */
  approval: { headers: string[]; field: string | null };
}

export type GatewayFraming =
  | { kind: 'length' }
  | { kind: 'chunked'; sizes: number[]; upper: boolean; extension: string; trailer: string | null }
  | { kind: 'odd'; lines: readonly string[]; chunked: boolean; truncated: boolean };

/** Bytes not UTF-8 (lone continuation bytes, the five windows-1252 leaves undefined, NBSP in windows-1252, truncated, overlong, surrogates) and control bytes. */
const ODD_BYTES = ['%81', '%8D', '%8F', '%90', '%9D', '%A0', '%85', '%C2', '%E2%80', '%C0%AF', '%ED%A0%80', '%FF', '%00', '%1F', '%0A', '%0D%0A', '%09', '%7F', '%C2%A0'];
/** Spaces, underscores and invisible marks a title normaliser may fold or drop. */
const TITLE_NOISE = ['\u00a0', '\u3000', '\u200e', '\u200f', '\u202e', '\u00ad', '\u200b', '\ufeff', '\u180e', '\u1680', '\u2028', '\u205f', '\u2009', '_', ' ', '__', '\t', '\n', ':'];
/** Look-alikes: long s, the Kelvin sign, dotless i, dotted I, a combining mark, fullwidth letters. */
const LOOKALIKE: Record<string, string[]> = {
  s: ['\u017f', 'ſ'], S: ['\u017f'], k: ['\u212a'], K: ['\u212a'], i: ['\u0131'], I: ['\u0130', '\u0131'], e: ['e\u0301', '\uff45'], R: ['\uff32'], U: ['\u00dc', 'U\u0308'], a: ['\u0430'],
};
const RIGHTS_PAGES = ['UserRights', 'Userrights', 'userrights', 'USERRIGHTS', 'MakeSysop', 'makesysop', 'MAKESYSOP', 'MakeBot', 'makebot', 'Makebot'];
const OTHER_PAGES = ['User_rights', 'User rights', 'UserRight', 'EditPage', 'Preferences', 'BotPasswords', 'Sandbox', 'Main_Page', 'Special:UserRights', 'UserRightsX'];

/** Percent-encodes each UTF-8 byte of `ch`, in upper- or lower-case hex. */
function pct(ch: string, lower = false): string {
  const out = [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  return lower ? out : out.toUpperCase();
}

type Encoding = 'component' | 'keep-colon' | 'all' | 'lower' | 'plus' | 'raw-ascii';

/** A text as a URL or form writes it, one unit per character (so odd bytes can go between units). */
function encodeUnits(text: string, how: Encoding, inQuery: boolean): string[] {
  return [...text].map((ch) => {
    if (how === 'all') return pct(ch);
    if (how === 'lower') return pct(ch, true);
    if (ch === ' ' && inQuery && how === 'plus') return '+';
    if (how === 'raw-ascii' && /^[\x21-\x7e]$/.test(ch) && !'&=+#?%'.includes(ch) && (inQuery || ch !== '/')) return ch;
    if (how === 'keep-colon' && (ch === ':' || ch === '/' || ch === '@')) return ch;
    return encodeURIComponent(ch).replace(/[!'()*]/g, (c) => pct(c));
  });
}

/** A title, as text: an optional lead, a namespace, a separator, a page name (look-alikes and noise inside), an optional subpage or fragment. */
const titleTextArb: fc.Arbitrary<string> = fc
  .record({
    lead: fc.array(fc.constantFrom(...TITLE_NOISE), { maxLength: 2 }),
    ns: fc.constantFrom('Special', 'Special', 'Special', 'special', 'SPECIAL', 'SpEcIaL', 'Spécial', 'Special:Special', 'Talk', 'Project', ''),
    sep: fc.constantFrom(':', ':', ':', '_:_', ' : ', ':_', '__:', ': ', '::', '\u00a0:'),
    page: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...RIGHTS_PAGES) }, { weight: 2, arbitrary: fc.constantFrom(...OTHER_PAGES) }),
    edits: fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...TITLE_NOISE).map((n) => ({ insert: n })), fc.constant({ lookalike: true }))), { maxLength: 2 }),
    tail: fc.constantFrom('', '', '', '', '/Bob', '/bob', '#x', '/', '_', ' ', '/Bob/x', '%', '?x', '\n', '/..'),
  })
  .map(({ lead, ns, sep, page, edits, tail }) => {
    let name = page;
    for (const [at, edit] of edits) {
      const i = at % (name.length + 1);
      if ('insert' in edit) name = name.slice(0, i) + edit.insert + name.slice(i);
      else {
        const j = at % name.length;
        const options = LOOKALIKE[name[j]!];
        if (options) name = name.slice(0, j) + options[at % options.length]! + name.slice(j + 1);
      }
    }
    return lead.join('') + (ns === '' ? '' : ns + sep) + name + tail;
  });

/** A text encoded for a query, a form or a path, with odd bytes (not UTF-8, controls) put between characters. */
function encodedArb(text: fc.Arbitrary<string>, inQuery: boolean): fc.Arbitrary<string> {
  return fc
    .record({
      text,
      how: fc.constantFrom<Encoding>('keep-colon', 'keep-colon', 'component', 'all', 'lower', 'plus', 'raw-ascii'),
      odd: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: fc.array(fc.tuple(fc.nat(), fc.constantFrom(...ODD_BYTES)), { minLength: 1, maxLength: 2 }) }),
    })
    .map(({ text: t, how, odd }) => {
      const units = encodeUnits(t, how, inQuery);
      for (const [at, b] of odd) units.splice(at % (units.length + 1), 0, b);
      return units.join('');
    });
}

const ACTIONS = ['userrights', 'userrights', 'userrights', 'edit', 'submit', 'rollback', 'rollback', 'query', 'view', 'delete', 'UserRights', 'USERRIGHTS', 'userrights ', ' userrights', 'userright', 'Rollback', 'ROLLBACK', 'editredlink', '\x1fuserrights'];
const titleValueArb = encodedArb(titleTextArb, true);
const actionValueArb = encodedArb(fc.constantFrom(...ACTIONS), true);

/** Names PHP reads as `title` (a NUL ends a name, leading spaces go, `[…]` makes an array) or nearly (`title[`, `ti.tle`, `Title`). */
const TITLE_NAMES = ['title', 'title', 'title', 'title', 'title%00x', 'title%00', '%20title', '+title', '++title', 'title[]', 'title[x]', 'title[', 'Title', 'TITLE', 'ti.tle', 'title.', '%74itle', '%74%69%74%6C%65', 'title%20', 'tit%00le', 'title%5B%5D', 'title]'];
const ACTION_NAMES = ['action', 'action', 'action', 'action', 'action%00', 'action%00y', '%20action', '+action', 'action[]', 'action[', 'Action', 'act.ion', '%61ction', 'action%5B'];
/** Other fields of the rights forms, the edit form and the API; and the approval field. */
const OTHER_FIELDS: Array<[string, string[]]> = [
  ['user', ['Bob', 'bob', 'User:Bob']], ['wpEditToken', ['0123abcd+\\', '+\\']], ['saveusergroups', ['Save user groups', '1']], ['wpGroup-sysop', ['1']],
  ['conflictcheck-originalgroups', ['']], ['add', ['sysop', 'sysop|bureaucrat']], ['token', ['+\\']], ['format', ['json']], ['curid', ['0', '1', 'x', '00']],
  ['oldid', ['0', '1']], ['from', ['Bob']], ['wpTextbox1', ['Rotate the key']], ['text', ['Rotate the key']], ['search', ['x']], ['diff', ['1']],
];

export type Pair = [string, string];

const fieldPairArb: fc.Arbitrary<Pair> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...TITLE_NAMES), titleValueArb) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...ACTION_NAMES), actionValueArb) },
  { weight: 3, arbitrary: fc.constantFrom(...OTHER_FIELDS).chain(([n, vs]) => fc.constantFrom(...vs).map((v): Pair => [n, encodeURIComponent(v)])) },
  { weight: 1, arbitrary: fc.tuple(fc.webSegment(), fc.webSegment()) },
);
/** Pieces of a query or urlencoded body (`name=value`, already encoded), with odd pieces: empty, no `=`, no name. */
const piecesArb: fc.Arbitrary<string[]> = fc.array(
  fc.oneof({ weight: 12, arbitrary: fieldPairArb.map(([n, v]) => `${n}=${v}`) }, { weight: 1, arbitrary: fc.constantFrom('', 'title', 'action', '=Special:UserRights', '%', 'a=b=c', '&') }),
  { maxLength: 6 },
);
/** 1,000 fields before or after the others: PHP reads only the first 1,000 of a query (1,001 of a body). */
const PADDING = Array.from({ length: 1000 }, (_, i) => `p${i}=${i}`).join('&');

function joinPieces(pieces: string[], padding: 'none' | 'before' | 'after'): string {
  const joined = pieces.join('&');
  return padding === 'before' ? `${PADDING}&${joined}` : padding === 'after' ? `${joined}&${PADDING}` : joined;
}

const paddingArb = fc.constantFrom<'none' | 'before' | 'after'>(...Array<'none'>(30).fill('none'), 'before', 'after');

/** A path: MediaWiki's entry points as written, encoded, doubled, dotted or cased otherwise; PATH_INFO titles. */
const pathTitleArb = encodedArb(titleTextArb, false);
const pathArbGateway: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constant('/index.php') },
  { weight: 4, arbitrary: pathTitleArb.map((t) => `/index.php/${t}`) },
  { weight: 2, arbitrary: fc.constantFrom('/api.php', '/api.php', '/', '/', '/api.php/', '/rest.php/v1/page/Sandbox', '/rest.php/v1/page', '/load.php', '/index.php/') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '/%69ndex.php', '/index%2Ephp', '//index.php', '///index.php', '/INDEX.PHP', '/Index.php', '/index.php;x', '/index.php/.', '/./index.php', '/x/../index.php', '/index.php/..',
      '//', '/index.php//', '/%61pi.php', '/api%2Ephp', '/API.php', '/index.php.', '/index.php%20', '/index.php%00', '/wiki/Special:UserRights', '/index.php\\Special:UserRights', '/api.php//',
      '/index.php/Special:UserRights', '/index.php/Special:MakeSysop/Bob', '//x', '/?', '/index.php/a:80', '/index.php/Special:80',
    ),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('/index.php%2F', '//index.php/', '/index.php//', '/%69ndex.php/', '/index.php/./', '/index.php/x/../'), pathTitleArb).map(([p, t]) => p + t) },
);

/** The request-target: origin-form mostly; absolute-form for this origin in any case, or another; `*` and authority-form rarely. */
const targetArb: fc.Arbitrary<string> = fc
  .tuple(pathArbGateway, fc.option(fc.tuple(piecesArb, paddingArb), { freq: 3 }), fc.constantFrom('origin', 'origin', 'origin', 'origin', 'origin', 'origin', 'origin', 'absolute', 'ABSOLUTE', 'other', 'star'))
  .map(([path, query, form]) => {
    const pq = query === null ? path : `${path}?${joinPieces(...query)}`;
    if (form === 'absolute') return `${GATEWAY_ORIGIN}${pq}`;
    if (form === 'ABSOLUTE') return `HTTP://${GATEWAY_HOST.toUpperCase()}${pq}`;
    if (form === 'other') return `http://evil.example${pq}`;
    return form === 'star' ? '*' : pq;
  });

const URLENCODED_TYPES = [
  'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=UTF-8',
  'Application/X-WWW-Form-Urlencoded', 'application/x-www-form-urlencoded;charset=iso-8859-1', 'application/x-www-form-urlencoded, text/plain', 'application/x-www-form-urlencoded ;',
  'application/x-www-form-urlencoded\t', 'application/x-www-form-urlencodedx', 'text/plain', 'application/json', 'application/x-www-form-urlencoded; boundary=x', 'multipart/form-data',
];

const urlencodedBodyArb = fc.record({
  contentType: fc.option(fc.constantFrom(...URLENCODED_TYPES), { freq: 12 }),
  body: fc.tuple(piecesArb, paddingArb, fc.constantFrom('', '', '', '', '', '&', '&&', 'caf\xc3\xa9', '\xff\xfe')).map(([pieces, padding, tail]) => joinPieces(pieces, padding) + tail),
});

/** Multipart field names as the part writes them (bytes: a NUL in it is real), and values as bytes. */
const PART_NAMES = ['title', 'title', 'title', 'action', 'action', 'title\0', 'title\0x', 'action\0', 'title[]', ' title', 'ti.tle', 'Title', 'title\\', 'title"', 'user', 'wpEditToken', 'saveusergroups', 'wpTextbox1', 'countersign_approval', 'text'];
const DISPOSITIONS = [
  'quoted', 'quoted', 'quoted', 'quoted', 'quoted', 'quoted', 'unquoted', 'single', 'nospace', 'NAME', 'Form-Data', 'file', 'file', 'fileFirst', 'emptyFile', 'twoNames', 'star', 'attachment', 'none', 'twoHeaders',
  'folded', 'spaceBeforeColon', 'lowerHeader', 'backslashFile', 'nulFile', 'nameOnlyFilename', 'noName',
] as const;
type Disposition = (typeof DISPOSITIONS)[number];

function dispositionLines(kind: Disposition, name: string, eol: string): string[] {
  const q = `name="${name}"`;
  switch (kind) {
    case 'quoted': return [`Content-Disposition: form-data; ${q}`];
    case 'unquoted': return [`Content-Disposition: form-data; name=${name}`];
    case 'single': return [`Content-Disposition: form-data; name='${name}'`];
    case 'nospace': return [`Content-Disposition:form-data;${q}`];
    case 'NAME': return [`Content-Disposition: form-data; NAME="${name}"`];
    case 'Form-Data': return [`Content-Disposition: Form-Data; ${q}`];
    case 'file': return [`Content-Disposition: form-data; ${q}; filename="f.txt"`];
    case 'fileFirst': return [`Content-Disposition: form-data; filename="f.txt"; ${q}`];
    case 'emptyFile': return [`Content-Disposition: form-data; ${q}; filename=""`];
    case 'twoNames': return [`Content-Disposition: form-data; name="x"; ${q}`];
    case 'star': return [`Content-Disposition: form-data; name*=utf-8''${encodeURIComponent(name)}`];
    case 'attachment': return [`Content-Disposition: attachment; ${q}`];
    case 'none': return [];
    case 'twoHeaders': return ['Content-Disposition: form-data; name="x"', `Content-Disposition: form-data; ${q}`];
    case 'folded': return [`Content-Disposition: form-data;${eol} ${q}`];
    case 'spaceBeforeColon': return [`Content-Disposition : form-data; ${q}`];
    case 'lowerHeader': return [`content-disposition: form-data; ${q}`];
    case 'backslashFile': return [`Content-Disposition: form-data; name="${name}\\"; filename="f.txt"`];
    case 'nulFile': return [`Content-Disposition: form-data; name="${name}\0"; filename="f.txt"`];
    case 'nameOnlyFilename': return [`Content-Disposition: form-data; ${q}; filename`];
    case 'noName': return ['Content-Disposition: form-data; filename="f.txt"'];
  }
}

const partArb = fc.record({
  name: fc.constantFrom(...PART_NAMES),
  value: fc.oneof(titleValueArb, actionValueArb, fc.constantFrom('Bob', 'Save', '1', '', 'Rotate the key')).map((v) => phpDecodeForPart(v)),
  disposition: fc.constantFrom(...DISPOSITIONS),
  extra: fc.constantFrom(null, null, null, null, null, 'Content-Type: text/plain', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', 'X-Foo: bar', 'Content-Type: application/octet-stream'),
  tail: fc.constantFrom('', '', '', '', '', '', '', 'NL--B', 'NL--Bx', 'NL--B--', 'CRLF--Bx', 'NL--BCRLFinject', 'CRLF--B inject'),
});

/** Percent-decodes an encoded field value to its bytes (a multipart part carries them as they are). */
function phpDecodeForPart(encoded: string): string {
  return encoded.replace(/\+/g, ' ').replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

const multipartBodyArb = fc
  .record({
    boundary: fc.constantFrom('XyZ', '----WebKitFormBoundaryQ1w2E3r4', 'b', "'()+_-.:=", 'a-b', 'XyZXyZ'),
    typeStyle: fc.constantFrom('plain', 'plain', 'plain', 'plain', 'nospace', 'quoted', 'charsetBefore', 'charsetAfter', 'upper', 'commaType', 'xboundary', 'twice', 'missing', 'spaced'),
    eol: fc.constantFrom('\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\n', 'mixed'),
    preamble: fc.constantFrom('', '', '', '', 'preamble', '--BX', 'CRLF'),
    closing: fc.constantFrom('--B--EOL', '--B--EOL', '--B--EOL', '--B--', '--B', '', '--B-- EOL', '--B--EOLepilogue', '--B--EOL--B--EOL'),
    parts: fc.array(partArb, { minLength: 1, maxLength: 5 }),
  })
  .map(({ boundary, typeStyle, eol, preamble, closing, parts }) => {
    const b = boundary;
    const contentType = {
      plain: `multipart/form-data; boundary=${b}`,
      nospace: `multipart/form-data;boundary=${b}`,
      quoted: `multipart/form-data; boundary="${b}"`,
      charsetBefore: `multipart/form-data; charset=utf-8; boundary=${b}`,
      charsetAfter: `multipart/form-data; boundary=${b}; charset=utf-8`,
      upper: `Multipart/Form-Data; BOUNDARY=${b}`,
      commaType: `multipart/form-data; boundary=${b}, text/plain`,
      xboundary: `multipart/form-data; xboundary=${b}x; boundary=${b}`,
      twice: `multipart/form-data; boundary=${b}; boundary=${b}x`,
      missing: 'multipart/form-data',
      spaced: `multipart/form-data; boundary = ${b}`,
    }[typeStyle];
    let n = 0;
    const nl = () => (eol === 'mixed' ? (n++ % 2 === 0 ? '\r\n' : '\n') : eol);
    const expand = (s: string) => s.replace(/NL/g, '\n').replace(/CRLF/g, '\r\n').replace(/--B/g, `--${b}`).replace(/EOL/g, nl());
    let body = preamble === '' ? '' : `${expand(preamble)}${nl()}`;
    for (const part of parts) {
      const tail = part.tail === '' ? '' : expand(part.tail).replace(/inject$/, `${nl()}Content-Disposition: form-data; name="title"${nl()}${nl()}Special:UserRights`);
      const headers = [...dispositionLines(part.disposition, part.name, nl()), ...(part.extra ? [part.extra] : [])];
      body += `--${b}${nl()}${headers.map((h) => h + nl()).join('')}${nl()}${part.value}${tail}${nl()}`;
    }
    body += expand(closing);
    return { contentType, body };
  });

/** Bodies that are neither: JSON, text, none at all with a form's bytes. */
const otherBodyArb = fc.constantFrom(
  { contentType: 'application/json', body: '{"action":"userrights","title":"Special:UserRights","user":"Bob"}' },
  { contentType: 'text/plain', body: 'title=Special:UserRights&user=Bob' },
  { contentType: null, body: 'title=Special:UserRights&user=Bob&saveusergroups=1' },
  { contentType: 'application/octet-stream', body: 'action=userrights&user=Bob&add=sysop' },
  { contentType: 'application/x-www-form-urlencoded', body: '' },
);

const IDENTITY_SPELLINGS = ['X-Forwarded-User', 'x-forwarded-user', 'X_Forwarded_User', 'X-FORWARDED-USER', 'X.Forwarded.User', 'x_forwarded-user', 'X-Forwarded_User', 'x.forwarded_user'];
const APPROVAL_SPELLINGS = ['Countersign-Approval', 'countersign-approval', 'Countersign_Approval', 'Countersign.Approval', 'COUNTERSIGN_APPROVAL'];
const AGENT_SPELLINGS = ['Countersign-Agent', 'countersign_agent', 'Countersign.Agent'];
const RECEIPT_SPELLINGS = ['Countersign-Receipt', 'Countersign_Receipt', 'countersign.receipt'];
export const KEY_SPELLINGS = ['X-Countersign-Agent-Key', 'x-countersign-agent-key', 'X_Countersign_Agent_Key', 'X.Countersign.Agent.Key', 'X-Countersign-Agent_Key', 'x.countersign-agent.key'];

export interface GatewayPools {
  /** The live agent key, a revoked one. */
  agentKey: string;
  revokedKey: string;
  /** Real tokens that can never be valid here (a scope no route has, or a request the fuzzer never sends), and forgeries. */
  tokens: string[];
}

function hostileHeaderArb(pools: GatewayPools): fc.Arbitrary<[string, string]> {
  const token = fc.constantFrom(...pools.tokens);
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...IDENTITY_SPELLINGS), fc.constantFrom('root', 'alice', 'bob', 'alice, root', ' root', 'root\t', 'wiki-helper', '')) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...APPROVAL_SPELLINGS), token) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...AGENT_SPELLINGS), fc.constantFrom('wiki-helper', 'root', 'agent:wiki-helper')) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...RECEIPT_SPELLINGS), fc.constantFrom('forged', pools.tokens[0]!)) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...KEY_SPELLINGS), fc.constantFrom(pools.agentKey, pools.revokedKey, 'csa_x', `${pools.agentKey}, ${pools.agentKey}`)) },
    {
      weight: 2,
      arbitrary: fc.tuple(
        fc.constantFrom('Cookie', 'Authorization', 'X-Forwarded-For', 'Forwarded', 'X-Forwarded-Host', 'X-Real-IP', 'X-HTTP-Method-Override', 'X-Original-URL', 'Content_Type', 'Transfer_Encoding', 'Host_', 'Proxy-Authorization', 'Connection', 'TE', 'Upgrade', 'X-Assistant'),
        fc.constantFrom('wikidb_session=stolen', 'Bearer x', '127.0.0.1', 'for=127.0.0.1', 'evil.example', 'POST', '/index.php?title=Special:UserRights', 'multipart/form-data; boundary=x', 'chunked', 'keep-alive, X-Forwarded-User', 'trailers', 'h2c', '1'),
      ),
    },
  );
}

function framingArb(hasBody: boolean): fc.Arbitrary<GatewayFraming> {
  if (!hasBody) return fc.oneof({ weight: 9, arbitrary: fc.constant<GatewayFraming>({ kind: 'length' }) }, { weight: 1, arbitrary: oddFramingArb });
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant<GatewayFraming>({ kind: 'length' }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('chunked' as const),
        sizes: fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 3 }),
        upper: fc.boolean(),
        extension: fc.constantFrom('', '', '', ';x=y', ' ;x', ';'),
        trailer: fc.constantFrom(null, null, null, 'X-Trailer: 1', 'X-Forwarded-User: root', 'Countersign-Approval: x'),
      }),
    },
    { weight: 2, arbitrary: oddFramingArb },
  );
}

/** Framing that parsers disagree on: duplicated or signed lengths, TE with CL, obs-fold, a body shorter than declared. */
const oddFramingArb: fc.Arbitrary<GatewayFraming> = fc
  .constantFrom(
    { lines: ['Content-Length: +LEN'], chunked: false, truncated: false },
    { lines: ['Content-Length:  LEN '], chunked: false, truncated: false },
    { lines: ['Content-Length: LEN, LEN'], chunked: false, truncated: false },
    { lines: ['Content-Length: LEN', 'Content-Length: LEN'], chunked: false, truncated: false },
    { lines: ['Content-Length: LEN', 'Content-Length: 0'], chunked: false, truncated: false },
    { lines: ['Content-Length: 0', 'Transfer-Encoding: chunked'], chunked: true, truncated: false },
    { lines: ['Transfer-Encoding: chunked', 'Content-Length: LEN'], chunked: true, truncated: false },
    { lines: ['Transfer-Encoding: chunked, identity'], chunked: true, truncated: false },
    { lines: ['Transfer-Encoding: identity'], chunked: false, truncated: false },
    { lines: ['Transfer-Encoding: xchunked'], chunked: true, truncated: false },
    { lines: ['Transfer-Encoding: Chunked'], chunked: true, truncated: false },
    { lines: ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], chunked: true, truncated: false },
    { lines: ['Transfer_Encoding: chunked', 'Content-Length: LEN'], chunked: false, truncated: false },
    { lines: ['Content-Length: LEN', 'X-Folded: a', ' b'], chunked: false, truncated: false },
    { lines: ['Content-Length: 999'], chunked: false, truncated: true },
    { lines: [], chunked: false, truncated: false },
  )
  .map((o): GatewayFraming => ({ kind: 'odd', ...o }));

export interface GatewayFocus {
  /** Relative weights of the body kinds. */
  bodies: { urlencoded: number; multipart: number; other: number; none: number };
  /** How many hostile header lines, at most. */
  headers: number;
  callers: Partial<Record<GatewayCaller, number>>;
  /** Framing other than a plain Content-Length, and Expect. */
  framing: boolean;
  /** How often an approval (forged or wrong-scope) is sent, 0–1. */
  approvals: number;
}

/** One hostile request for the gateway; `focus` weights the parts a family of cases stresses. */
export function gatewayCaseArb(pools: GatewayPools, focus: GatewayFocus): fc.Arbitrary<GatewayCase> {
  const callers = (Object.entries(focus.callers) as Array<[GatewayCaller, number]>).filter(([, n]) => n > 0);
  const bodyArb = fc.oneof(
    ...[
      { weight: focus.bodies.urlencoded, arbitrary: urlencodedBodyArb as fc.Arbitrary<{ contentType: string | null; body: string }> },
      { weight: focus.bodies.multipart, arbitrary: multipartBodyArb as fc.Arbitrary<{ contentType: string | null; body: string }> },
      { weight: focus.bodies.other, arbitrary: otherBodyArb as fc.Arbitrary<{ contentType: string | null; body: string }> },
      { weight: focus.bodies.none, arbitrary: fc.constant({ contentType: null, body: null as string | null }) as fc.Arbitrary<{ contentType: string | null; body: string | null }> },
    ].filter((x) => x.weight > 0),
  );
  return fc
    .record({
      peer: fc.constantFrom<'trusted' | 'untrusted'>('trusted', 'trusted', 'trusted', 'untrusted'),
      caller: fc.oneof(...callers.map(([c, n]) => ({ weight: n, arbitrary: fc.constant(c) }))),
      keyHeader: fc.constantFrom(...KEY_SPELLINGS.slice(0, 1), ...KEY_SPELLINGS.slice(0, 1), ...KEY_SPELLINGS.slice(0, 1), ...KEY_SPELLINGS),
      method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'POST', 'POST', 'POST', 'POST', 'GET', 'GET', 'GET', 'HEAD', 'OPTIONS', 'OPTIONS', 'PUT', 'PATCH', 'DELETE', 'PROPFIND', 'post'),
      target: targetArb,
      hosts: fc.constantFrom([GATEWAY_HOST], [GATEWAY_HOST], [GATEWAY_HOST], [GATEWAY_HOST], [GATEWAY_HOST], [GATEWAY_HOST], [GATEWAY_HOST], [GATEWAY_HOST.toUpperCase()], ['wiki.corp.example:8090.'], [], [GATEWAY_HOST, GATEWAY_HOST], ['evil.example']),
      headers: fc.array(hostileHeaderArb(pools), { maxLength: focus.headers }),
      body: bodyArb,
      expect: focus.framing ? fc.constantFrom(null, null, null, null, '100-continue', '100-Continue', 'something', '100-continue, foo') : fc.constant(null),
      approval: fc.oneof(
        { weight: Math.round((1 - focus.approvals) * 100), arbitrary: fc.constant({ headers: [] as string[], field: null as string | null }) },
        {
          weight: Math.max(0, Math.round(focus.approvals * 100)),
          arbitrary: fc.record({ headers: fc.array(fc.constantFrom(...pools.tokens), { maxLength: 2 }), field: fc.option(fc.constantFrom(...pools.tokens), { freq: 2 }) }),
        },
      ),
    })
    .chain((c) => (focus.framing ? framingArb(c.body.body !== null) : fc.constant<GatewayFraming>({ kind: 'length' })).map((framing) => ({ ...c, framing })))
    .map(({ body, ...c }): GatewayCase => ({ ...c, contentType: body.contentType, body: body.body }));
}

/** The bytes of a case: the request head (ending in `Connection: close` and the blank line) and the body as framed. */
export function serialiseGatewayCase(c: GatewayCase, pools: GatewayPools, tag: string): { head: Buffer; body: Buffer; waitForContinue: boolean; truncated: boolean } {
  const lines: string[] = [`${c.method} ${c.target} HTTP/1.1`];
  for (const host of c.hosts) lines.push(`Host: ${host}`);
  if (c.caller === 'person') lines.push('X-Forwarded-User: alice');
  if (c.caller === 'agent') lines.push(`${c.keyHeader}: ${pools.agentKey}`);
  if (c.caller === 'revoked agent') lines.push(`${c.keyHeader}: ${pools.revokedKey}`);
  if (c.caller === 'forged key') lines.push(`${c.keyHeader}: csa_${'A'.repeat(42)}Q`);
  for (const [name, value] of c.headers) lines.push(`${name}: ${value}`);
  for (const token of c.approval.headers) lines.push(`Countersign-Approval: ${token}`);
  let body = c.body;
  if (body !== null && c.approval.field !== null && /urlencoded/i.test(c.contentType ?? '')) body = `countersign_approval=${c.approval.field}&${body}`;
  if (c.contentType !== null) lines.push(`Content-Type: ${c.contentType}`);
  if (c.expect !== null) lines.push(`Expect: ${c.expect}`);
  lines.push(`X-Fuzz-Case: ${tag}`);
  const bytes = body === null ? Buffer.alloc(0) : Buffer.from(body, 'latin1');
  let framed = bytes;
  let truncated = false;
  const chunk = (data: Buffer, sizes: number[], upper: boolean, extension: string, trailer: string | null) => {
    const out: Buffer[] = [];
    let at = 0;
    for (const size of [...sizes, data.length]) {
      if (at >= data.length) break;
      const piece = data.subarray(at, Math.min(data.length, at + size));
      at += piece.length;
      const hex = piece.length.toString(16);
      out.push(Buffer.from(`${upper ? hex.toUpperCase() : hex}${extension}\r\n`), piece, Buffer.from('\r\n'));
    }
    out.push(Buffer.from(`0\r\n${trailer ? `${trailer}\r\n` : ''}\r\n`));
    return Buffer.concat(out);
  };
  if (c.framing.kind === 'length') {
    if (body !== null || !['GET', 'HEAD', 'OPTIONS'].includes(c.method)) lines.push(`Content-Length: ${bytes.length}`);
  } else if (c.framing.kind === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    framed = chunk(bytes, c.framing.sizes, c.framing.upper, c.framing.extension, c.framing.trailer);
  } else {
    for (const l of c.framing.lines) lines.push(l.replace(/LEN/g, String(bytes.length)));
    if (c.framing.chunked) framed = chunk(bytes, [16], false, '', null);
    truncated = c.framing.truncated;
  }
  lines.push('Connection: close', '', '');
  return { head: Buffer.from(lines.join('\r\n'), 'latin1'), body: framed, waitForContinue: c.expect !== null && /^100-continue$/i.test(c.expect), truncated };
}

export interface RawReply {
  /** Status lines and headers of every head received (a 100 Continue first, if any); 0 when none came. */
  status: number;
  heads: Array<{ status: number; headers: Map<string, string[]> }>;
  headers: Map<string, string[]>;
  body: string;
}

/**
 * Writes a request on a fresh connection from `localAddress` and reads until the server closes it.
 * With `waitForContinue`, the body goes only after a `100 Continue` (or never, if a final answer
 * comes first). A truncated request is half-closed after it is written, so the server sees it end.
 */
export function rawRequest(port: number, parts: { head: Buffer; body: Buffer; waitForContinue: boolean; truncated: boolean }, options: { localAddress: string; timeoutMs?: number }): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: options.localAddress });
    const chunks: Buffer[] = [];
    let bodySent = !parts.waitForContinue;
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 3000);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (!bodySent && Buffer.concat(chunks).includes('\r\n\r\n')) {
        bodySent = true;
        if (Buffer.concat(chunks).subarray(0, 12).toString('latin1') === 'HTTP/1.1 100') socket.write(parts.body);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseReply(Buffer.concat(chunks)));
    });
    socket.write(parts.head);
    if (bodySent && parts.body.length > 0) socket.write(parts.body);
    if (parts.truncated) socket.end();
  });
}

function parseReply(raw: Buffer): RawReply {
  const heads: RawReply['heads'] = [];
  let at = 0;
  let body = '';
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const [statusLine, ...lines] = raw.subarray(at, end).toString('latin1').split('\r\n');
    const headers = new Map<string, string[]>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    const status = Number(statusLine!.split(' ')[1]);
    heads.push({ status, headers });
    at = end + 4;
    if (status >= 200) {
      let rest = raw.subarray(at);
      if (headers.get('transfer-encoding')?.[0] === 'chunked') {
        const pieces: Buffer[] = [];
        let p = 0;
        for (;;) {
          const lineEnd = rest.indexOf('\r\n', p);
          if (lineEnd < 0) break;
          const size = parseInt(rest.subarray(p, lineEnd).toString('latin1'), 16);
          if (!size) break;
          pieces.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
          p = lineEnd + 2 + size + 2;
        }
        rest = Buffer.concat(pieces);
      }
      body = rest.toString('utf8');
      break;
    }
  }
  const last = heads[heads.length - 1];
  return { status: last?.status ?? 0, heads, headers: last?.headers ?? new Map(), body };
}
