// A demo world for tests: a real verifier (SQLite) with alice and bob enrolled and the two
// assistants registered to alice, the demo tools in front of it (injected as if reached at their
// origins: `inject` sends the tool's own Host), and helpers to sign in, mint
// approvals and read pages and receipts the way a reader's extension would. Node only (tests).
import { createServer } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { parseHTML } from 'linkedom';
import { importEs256Jwks, verifyReceipt } from '../../lib/protocol/index';
import type { ActionRequest, VerifiedReceipt } from '../../lib/protocol/index';
import { inProcessVerifier } from '../../server/middleware/index';
import type { VerifierClient } from '../../server/middleware/index';
import { buildDemo } from '../../demo/app';
import type { Demo } from '../../demo/app';
import { PUBLIC_URL, startVerifier } from './verifier';
import type { Device, TestVerifier } from './verifier';

export const FORUM_ORIGIN = 'http://127.0.0.1:8080';
export const CONSOLE_ORIGIN = 'http://localhost:8081';

export interface DemoWorld {
  v: TestVerifier;
  alice: Device;
  bob: Device;
  demo: Demo;
  /** Signs in through the tool's /login form; returns the Cookie header for later requests. */
  signIn(tool: 'forum' | 'console', user: string): Promise<string>;
  /** An approval by `device` for exactly this request, minted on the verifier's clock. */
  approve(device: Device, request: ActionRequest, agent: string, scope: string): Promise<string>;
  /** Verifies a receipt against the verifier's JWKS, as a reader's extension does. */
  readReceipt(receipt: string, content?: string): Promise<VerifiedReceipt>;
  close(): Promise<void>;
}

export async function startDemoWorld(options: { verifier?: (v: TestVerifier) => VerifierClient } = {}): Promise<DemoWorld> {
  const v = await startVerifier('sqlite');
  const alice = await v.enroll('alice');
  const bob = await v.enroll('bob');
  await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], [FORUM_ORIGIN]);
  await v.registerAgent('agent:access-helper', 'alice', ['admin.acl.write'], [CONSOLE_ORIGIN]);
  const verifier = options.verifier ? options.verifier(v) : inProcessVerifier(v.app.verifier.verifyDeps);
  const demo = await buildDemo({ verifier, forumOrigin: FORUM_ORIGIN, consoleOrigin: CONSOLE_ORIGIN });
  reachedAt(demo.forum, FORUM_ORIGIN);
  reachedAt(demo.console, CONSOLE_ORIGIN);

  return {
    v,
    alice,
    bob,
    demo,
    async signIn(tool, user) {
      const app = tool === 'forum' ? demo.forum : demo.console;
      const res = await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `user=${user}` });
      if (res.statusCode !== 303) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
      return String(res.headers['set-cookie']).split(';')[0]!;
    },
    async approve(device, request, agent, scope) {
      return (await v.mint(device, { request, agent, scope })).token;
    },
    async readReceipt(receipt, content) {
      const jwks = (await v.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      const keys = await importEs256Jwks(jwks);
      return verifyReceipt(receipt, { lookupKey: (kid) => keys.get(kid), issuer: PUBLIC_URL, ...(content !== undefined ? { content } : {}) });
    },
    async close() {
      await demo.close();
      await v.close();
    },
  };
}

/**
 * Makes `app.inject` send the tool's own Host (light-my-request's default is `localhost:80`), as a
 * browser that reached the tool at its origin does; a request that names its own Host keeps it. The
 * tools answer only to their configured origin.
 */
function reachedAt(app: FastifyInstance, origin: string): void {
  const inject = app.inject.bind(app) as (opts?: unknown, cb?: unknown) => unknown;
  const authority = new URL(origin).host;
  app.inject = ((opts?: unknown, cb?: unknown) => {
    if (opts === undefined) return inject();
    const options = typeof opts === 'string' ? { url: opts } : (opts as object);
    return inject({ authority, ...options }, cb);
  }) as FastifyInstance['inject'];
}

/** A served page as a DOM (linkedom), to query with the same selectors the adapters use. */
export function dom(res: LightMyRequestResponse): Document {
  return parseHTML(res.body).document as unknown as Document;
}

/** A port nobody listens on right now (for tools that must know their origin before listening). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
