// A running verifier app for route tests, on SQLite (temp file) or a private PostgreSQL database,
// with a controllable clock and helpers to enroll devices (each with a software WebAuthn credential
// unless a test opts out) and mint tokens (with a user-verified assertion where the default policy
// asks for presence, or where a test asks for it). Node only (tests).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../server/app';
import type { BuildAppOptions } from '../../server/app';
import { openDatabase } from '../../server/db/connect';
import type { DatabaseHandle } from '../../server/db/connect';
import type { VerifierConfig } from '../../server/config';
import { actionDigest, approvalDraft, exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, newTraceId } from '../../lib/protocol';
import type { ActionRequest, WebAuthnAssertion } from '../../lib/protocol';
import { createTestDatabase } from './postgres';
import { registerCredential } from './webauthn';
import type { AuthenticatorOptions, CeremonyOverrides, SoftAuthenticator } from './webauthn';

export const DATABASES = ['sqlite', 'postgres'] as const;
export type DatabaseKind = (typeof DATABASES)[number];
/** The handle a kind of database opens as: SQLite's carries its raw connection, PostgreSQL's its pool. */
export type HandleOf<K extends DatabaseKind> = Extract<DatabaseHandle, { dialect: K }>;

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const PUBLIC_URL = 'https://verifier.corp.example';
/** The test clock starts on a whole second, so the boot epoch equals it. */
export const T0 = 1_800_000_000_000;

/** The scope of FORUM_REQUEST's route (the forum's reply route). */
export const FORUM_SCOPE = 'forum.post';

export const FORUM_REQUEST: ActionRequest = {
  method: 'POST',
  url: 'http://127.0.0.1:8080/api/topics/7/replies',
  contentType: 'application/json',
  body: '{"body":"Try revoking the group grant.","author_kind":"assistant"}',
};

/** The scopes the default policy requires the person's presence for (server/policy/default.cedar). */
export const PRESENCE_SCOPES: readonly string[] = ['admin.acl.write', 'wiki.rights'];

export interface Device {
  kid: string;
  deviceId: string;
  userId: string;
  privateKey: CryptoKey;
  /** The device's WebAuthn credential, registered at enrollment; absent for a device enrolled without one. */
  authenticator?: SoftAuthenticator;
}

export interface EnrollOptions {
  /** false: enroll without a credential (the device cannot approve scopes that need presence). */
  credential?: boolean;
  /** Where the software credential is made (origin, RP id, counting). */
  authenticator?: AuthenticatorOptions;
}

export interface MintOptions {
  request?: ActionRequest;
  agent?: string;
  scope?: string;
  ttlSeconds?: number;
  now?: number;
  traceId?: string;
  /**
   * Whether the token carries a `wa` made by the device's authenticator: by default where the scope is
   * one of PRESENCE_SCOPES and the device has a credential; true insists (throws without a credential),
   * false leaves it out.
   */
  presence?: boolean;
  /** Bends the assertion (flags, counter, origin, RP id, challenge, key …). */
  assertion?: CeremonyOverrides;
  /** Signs the assertion over this binding instead of the token's own (an assertion made for another action). */
  assertFor?: { dig: string; jti: string; exp: number };
  /** Puts exactly this `wa` into the token (a replayed or hand-made assertion). */
  wa?: WebAuthnAssertion;
}

/** The `wa` a device's authenticator makes for a token of `request` with `jti`/`exp`, or undefined where none is asked for. */
export async function presenceFor(
  device: Device,
  binding: { request: ActionRequest; scope: string; jti: string; exp: number },
  o: Pick<MintOptions, 'presence' | 'assertion' | 'assertFor' | 'wa'> = {},
): Promise<WebAuthnAssertion | undefined> {
  if (o.wa) return o.wa;
  const wanted = o.presence ?? (device.authenticator !== undefined && PRESENCE_SCOPES.includes(binding.scope));
  if (!wanted) return undefined;
  if (!device.authenticator) throw new Error(`device ${device.deviceId} has no credential to assert with`);
  const target = o.assertFor ?? { dig: await actionDigest(binding.request), jti: binding.jti, exp: binding.exp };
  return device.authenticator.assert(target, o.assertion);
}


export interface TestVerifier<D extends DatabaseHandle = DatabaseHandle> {
  app: FastifyInstance;
  database: D;
  clock: { now: number };
  /** Seconds on the test clock. */
  seconds(): number;
  admin(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse>;
  /** Enrolls a device for `userId`, with a software WebAuthn credential unless `credential: false`. */
  enroll(userId: string, options?: EnrollOptions): Promise<Device>;
  registerAgent(agentId: string, owner: string, scopes?: string[], sites?: string[]): Promise<void>;
  mint(device: Device, options?: MintOptions): Promise<{ token: string; traceId: string; jti: string; exp: number; wa?: WebAuthnAssertion }>;
  /**
   * POST /v1/verify. A body that names no `scope` is sent with FORUM_SCOPE (FORUM_REQUEST's route), as
   * the forum's middleware would; `verifyExact` sends the body exactly as given.
   */
  verify(body: unknown): Promise<LightMyRequestResponse>;
  verifyExact(body: unknown): Promise<LightMyRequestResponse>;
  /** Closes the app and the database; reopens it on the same storage with a new app (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startVerifier<K extends DatabaseKind>(kind: K, options: Partial<BuildAppOptions> = {}): Promise<TestVerifier<HandleOf<K>>> {
  let storage: { config: Parameters<typeof openDatabase>[0]; dispose(): Promise<void> };
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'cs-verifier-'));
    storage = { config: { kind: 'sqlite', file: join(dir, 'verifier.db') }, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  } else {
    const pg = await createTestDatabase('verifier');
    storage = { config: { kind: 'postgres', url: pg.url }, dispose: () => pg.drop() };
  }
  const clock = { now: T0 };
  const build = async () => {
    // The storage was made for `kind`, so the handle is of that dialect.
    const database = (await openDatabase(storage.config)) as HandleOf<K>;
    const app = await buildApp({ database, adminToken: ADMIN_TOKEN, publicUrl: PUBLIC_URL, now: () => clock.now, ...options });
    return { database, app };
  };
  let current = await build();

  const t: TestVerifier<HandleOf<K>> = {
    get app() {
      return current.app;
    },
    get database() {
      return current.database;
    },
    clock,
    seconds: () => Math.floor(clock.now / 1000),
    admin: (method, url, payload) =>
      current.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, ...(payload !== undefined ? { payload: payload as object } : {}) }),
    async enroll(userId, eo = {}) {
      const codeRes = await t.admin('POST', '/v1/admin/enrollment-codes', { userId });
      const { code } = codeRes.json() as { code: string };
      const pair = await generateEs256KeyPair();
      const publicKeyJwk = await exportEs256PublicJwk(pair.publicKey);
      const registered = eo.credential === false ? undefined : await registerCredential(publicKeyJwk, eo.authenticator);
      const payload = { code, publicKeyJwk, label: `${userId}'s laptop`, ...(registered ? { credential: registered.credential } : {}) };
      const res = await current.app.inject({ method: 'POST', url: '/v1/enroll', payload });
      if (res.statusCode !== 201) throw new Error(`enroll failed: ${res.body}`);
      const { kid, deviceId } = res.json() as { kid: string; deviceId: string };
      return { kid, deviceId, userId, privateKey: pair.privateKey, ...(registered ? { authenticator: registered.authenticator } : {}) };
    },
    async registerAgent(agentId, owner, scopes = ['forum.post'], sites = ['http://127.0.0.1:8080']) {
      const res = await t.admin('PUT', `/v1/admin/agents/${encodeURIComponent(agentId)}`, { owner, scopes, sites });
      if (res.statusCode !== 200) throw new Error(`agent registration failed: ${res.body}`);
    },
    async mint(device, o = {}) {
      const traceId = o.traceId ?? newTraceId();
      const request = o.request ?? FORUM_REQUEST;
      const scope = o.scope ?? FORUM_SCOPE;
      const ttlSeconds = o.ttlSeconds ?? 120;
      const draft = approvalDraft({ ttlSeconds, now: o.now ?? t.seconds() });
      const wa = await presenceFor(device, { request, scope, jti: draft.jti, exp: draft.exp }, o);
      const { token } = await mintApprovalToken({
        privateKey: device.privateKey,
        kid: device.kid,
        deviceId: device.deviceId,
        userId: device.userId,
        request,
        agent: o.agent ?? 'agent:forum-helper',
        scope,
        traceId,
        ttlSeconds,
        now: draft.iat,
        jti: draft.jti,
        ...(wa ? { wa } : {}),
      });
      return { token, traceId, jti: draft.jti, exp: draft.exp, ...(wa ? { wa } : {}) };
    },
    verify: (body) => t.verifyExact(withRouteScope(body)),
    verifyExact: (body) => current.app.inject({ method: 'POST', url: '/v1/verify', payload: body as object }),
    async restart() {
      await current.app.close();
      await current.database.close();
      current = await build();
    },
    async close() {
      await current.app.close();
      await current.database.close();
      await storage.dispose();
    },
  };
  return t;
}

/** Where an open handle's data lives: to open a second handle (another verifier instance) on the same storage. */
export function sameStorage(database: DatabaseHandle): VerifierConfig['database'] {
  return database.dialect === 'sqlite' ? { kind: 'sqlite', file: database.sqlite.name } : { kind: 'postgres', url: database.pool.options.connectionString! };
}

/** A verify body with the route's scope filled in when it names none (an explicit `scope` is kept, even undefined). */
export function withRouteScope(body: unknown, scope = FORUM_SCOPE): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.hasOwn(body, 'scope')) return body;
  return { ...body, scope };
}
