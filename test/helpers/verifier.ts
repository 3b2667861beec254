// A running verifier app for route tests, on SQLite (temp file) or a private PostgreSQL database,
// with a controllable clock and helpers to enroll devices and mint tokens. Node only (tests).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../server/app';
import type { BuildAppOptions } from '../../server/app';
import { openDatabase } from '../../server/db/connect';
import type { DatabaseHandle } from '../../server/db/connect';
import type { VerifierConfig } from '../../server/config';
import { exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, newTraceId } from '../../lib/protocol';
import type { ActionRequest } from '../../lib/protocol';
import { createTestDatabase } from './postgres';

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

export interface Device {
  kid: string;
  deviceId: string;
  userId: string;
  privateKey: CryptoKey;
}

export interface TestVerifier<D extends DatabaseHandle = DatabaseHandle> {
  app: FastifyInstance;
  database: D;
  clock: { now: number };
  /** Seconds on the test clock. */
  seconds(): number;
  admin(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse>;
  enroll(userId: string): Promise<Device>;
  registerAgent(agentId: string, owner: string, scopes?: string[], sites?: string[]): Promise<void>;
  mint(device: Device, options?: { request?: ActionRequest; agent?: string; scope?: string; ttlSeconds?: number; now?: number; traceId?: string }): Promise<{ token: string; traceId: string }>;
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
    async enroll(userId) {
      const codeRes = await t.admin('POST', '/v1/admin/enrollment-codes', { userId });
      const { code } = codeRes.json() as { code: string };
      const pair = await generateEs256KeyPair();
      const res = await current.app.inject({ method: 'POST', url: '/v1/enroll', payload: { code, publicKeyJwk: await exportEs256PublicJwk(pair.publicKey), label: `${userId}'s laptop` } });
      if (res.statusCode !== 201) throw new Error(`enroll failed: ${res.body}`);
      const { kid, deviceId } = res.json() as { kid: string; deviceId: string };
      return { kid, deviceId, userId, privateKey: pair.privateKey };
    },
    async registerAgent(agentId, owner, scopes = ['forum.post'], sites = ['http://127.0.0.1:8080']) {
      const res = await t.admin('PUT', `/v1/admin/agents/${encodeURIComponent(agentId)}`, { owner, scopes, sites });
      if (res.statusCode !== 200) throw new Error(`agent registration failed: ${res.body}`);
    },
    async mint(device, o = {}) {
      const traceId = o.traceId ?? newTraceId();
      const { token } = await mintApprovalToken({
        privateKey: device.privateKey,
        kid: device.kid,
        deviceId: device.deviceId,
        userId: device.userId,
        request: o.request ?? FORUM_REQUEST,
        agent: o.agent ?? 'agent:forum-helper',
        scope: o.scope ?? FORUM_SCOPE,
        traceId,
        ttlSeconds: o.ttlSeconds ?? 120,
        now: o.now ?? t.seconds(),
      });
      return { token, traceId };
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
