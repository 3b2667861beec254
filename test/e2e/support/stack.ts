// The running system a browser test needs: the verifier (SQLite, real clock) and both demo tools,
// on free loopback ports, with alice's agents registered. Node only (browser tests).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildDemo } from '../../../demo/app';
import { buildApp } from '../../../server/app';
import { openDatabase } from '../../../server/db/connect';
import { remoteVerifier } from '../../../server/middleware';
import { freePort } from '../../helpers/processes';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

export interface Stack {
  verifierUrl: string;
  forumUrl: string;
  consoleUrl: string;
  verifier: FastifyInstance;
  demo: Awaited<ReturnType<typeof buildDemo>>;
  admin(method: string, path: string, body?: unknown): Promise<Response>;
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

  const database = await openDatabase({ kind: 'sqlite', file: join(dir, 'verifier.db') });
  const verifier = await buildApp({ database, adminToken: ADMIN_TOKEN, publicUrl: verifierUrl, closeDatabase: true });
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
    verifier,
    demo,
    admin,
    async close() {
      await demo.close();
      await verifier.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
