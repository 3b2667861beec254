// The running system a browser test needs: the verifier (SQLite, real clock) and both demo tools,
// on free loopback ports, with alice's agents registered. Node only (browser tests).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildDemo } from '../../../demo/app';
import { buildApp } from '../../../server/app';
import { openDatabase } from '../../../server/db/connect';
import { remoteVerifier } from '../../../server/middleware/index';
import { freePort } from '../processes';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

export interface Stack {
  verifierUrl: string;
  forumUrl: string;
  consoleUrl: string;
  /** The running verifier (another instance after startVerifier()). */
  verifier: FastifyInstance;
  /** The verifier's SQLite file: it outlives stopVerifier(). */
  verifierDatabaseFile: string;
  demo: Awaited<ReturnType<typeof buildDemo>>;
  admin(method: string, path: string, body?: unknown): Promise<Response>;
  /** An outage: the verifier stops listening and closes its database; the tools keep running. */
  stopVerifier(): Promise<void>;
  /** The verifier back after an outage: same port, same database, a new process-like boot (new boot epoch). */
  startVerifier(): Promise<void>;
  close(): Promise<void>;
}

export { freePort };

/** Starts the stack; a port taken between finding it free and listening on it means a retry. */
export async function startStack(): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce();
    } catch (error) {
      if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt === 3) throw error;
    }
  }
}

async function startStackOnce(): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-e2e-'));
  const [verifierPort, forumPort, consolePort] = [await freePort(), await freePort(), await freePort()];
  const verifierUrl = `http://127.0.0.1:${verifierPort}`;
  const forumUrl = `http://127.0.0.1:${forumPort}`;
  const consoleUrl = `http://localhost:${consolePort}`;

  const databaseFile = join(dir, 'verifier.db');
  const buildVerifier = async () => buildApp({ database: await openDatabase({ kind: 'sqlite', file: databaseFile }), adminToken: ADMIN_TOKEN, publicUrl: verifierUrl, closeDatabase: true });
  let verifier = await buildVerifier();
  let verifierRunning = true;
  const demo = await buildDemo({ verifier: remoteVerifier({ url: verifierUrl }), forumOrigin: forumUrl, consoleOrigin: consoleUrl, dataFile: join(dir, 'demo.db') });
  try {
    await verifier.listen({ port: verifierPort, host: '127.0.0.1' });
    await demo.forum.listen({ port: forumPort, host: '127.0.0.1' });
    await demo.console.listen({ port: consolePort, host: '127.0.0.1' });
  } catch (error) {
    await demo.close().catch(() => undefined);
    await verifier.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(new URL(path, verifierUrl), {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  await admin('PUT', '/v1/admin/agents/agent:forum-helper', { owner: 'alice', scopes: ['forum.post'], sites: [forumUrl] });
  await admin('PUT', '/v1/admin/agents/agent:access-helper', { owner: 'alice', scopes: ['admin.acl.write'], sites: [consoleUrl] });

  return {
    verifierUrl,
    forumUrl,
    consoleUrl,
    get verifier() {
      return verifier;
    },
    verifierDatabaseFile: databaseFile,
    demo,
    admin,
    async stopVerifier() {
      if (!verifierRunning) return;
      verifierRunning = false;
      await verifier.close();
    },
    async startVerifier() {
      if (verifierRunning) return;
      verifier = await buildVerifier();
      await verifier.listen({ port: verifierPort, host: '127.0.0.1' });
      verifierRunning = true;
    },
    async close() {
      await demo.close();
      if (verifierRunning) await verifier.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
