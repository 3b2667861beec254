// Vitest globalSetup: one throwaway PostgreSQL cluster per test run, its URL provided as 'postgresUrl'. Node only (tests).
// The cluster itself is test/setup/postgres-cluster.ts.
import type { TestProject } from 'vitest/node';
import { startPostgresCluster } from './postgres-cluster';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's cluster, e.g. postgres://postgres@127.0.0.1:54321/postgres. */
    postgresUrl: string;
    /** The cluster's unix socket directory (trust auth there too), for URLs such as postgres:///db?host=<dir>&port=<port>. */
    postgresSocketDir: string;
  }
}

/** Vitest globalSetup: start the cluster, provide its URL, and return the teardown that stops and deletes it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const began = performance.now();
  const cluster = await startPostgresCluster();
  project.provide('postgresUrl', cluster.url);
  project.provide('postgresSocketDir', cluster.socketDir);
  const ms = Math.round(performance.now() - began);
  console.log(`[postgres] PostgreSQL ${cluster.version} on 127.0.0.1:${cluster.port} (${cluster.binDir}), up in ${ms} ms`);
  return async () => {
    await cluster.stop();
  };
}
