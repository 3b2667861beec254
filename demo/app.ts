// The demo's app factory: Intraforum and the Access console over one demo store, both behind the
// Countersign middleware; never listens (demo/main.ts does). Node only.
import type { FastifyInstance } from 'fastify';
import type { VerifierClient } from '../server/middleware';
import { buildAccessConsole } from './access-console';
import { buildForum } from './forum';
import { DemoStore } from './store';

export interface DemoOptions {
  verifier: VerifierClient;
  /** Public origin of Intraforum, e.g. http://127.0.0.1:8080 (the middleware's `origin`). */
  forumOrigin: string;
  /** Public origin of the Access console, e.g. http://localhost:8081. */
  consoleOrigin: string;
  /** SQLite file for the demo data; default ':memory:'. */
  dataFile?: string;
}

export interface Demo {
  forum: FastifyInstance;
  console: FastifyInstance;
  store: DemoStore;
  close(): Promise<void>;
}

export async function buildDemo(options: DemoOptions): Promise<Demo> {
  const store = new DemoStore(options.dataFile ?? ':memory:');
  store.seed();
  try {
    const forum = await buildForum({ store, verifier: options.verifier, origin: options.forumOrigin });
    const accessConsole = await buildAccessConsole({ store, verifier: options.verifier, origin: options.consoleOrigin });
    return {
      forum,
      console: accessConsole,
      store,
      async close() {
        await Promise.allSettled([forum.close(), accessConsole.close()]);
        store.close();
      },
    };
  } catch (error) {
    store.close();
    throw error;
  }
}
