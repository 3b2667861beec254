// The verifier's app factory: builds a Fastify instance over an open database; never listens. Node only.
import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { DEFAULT_APPROVAL_TTL_SECONDS, MAX_APPROVAL_TTL_SECONDS, VerifierUnavailable, newTraceId } from '../lib/protocol';
import type { VerifierContext } from './context';
import { DEFAULT_EXTENSION_ORIGINS } from './config';
import type { DatabaseHandle } from './db/connect';
import { createMetrics } from './metrics';
import { frameworkErrors, registerErrorHandling } from './plugins/errors';
import { adminRoutes } from './routes/admin';
import { proposalRoutes } from './routes/proposals';
import { registry } from './registry-state';
import { VERIFY_ROUTE, publicRoutes } from './routes/public';
import { createDecisionWriter, pruneConsumed } from './store/decisions';
import { enrolledKeys, keyLookup } from './store/devices';
import { verifyReads } from './store/verify-reads';
import { loadActivePolicy } from './store/policies';
import { activeReceiptSigner } from './store/receipt-keys';

export interface BuildAppOptions {
  database: DatabaseHandle;
  adminToken: string;
  /** The receipts' `iss`. */
  publicUrl: string;
  approvalTtlSeconds?: number;
  /** Extension origins a device's WebAuthn credential may be registered from (default: Countersign's Chromium id). */
  extensionOrigins?: readonly string[];
  /** Milliseconds since 1970; injectable for tests. */
  now?: () => number;
  logger?: FastifyServerOptions['logger'];
  /** Close the database when the app closes (the standalone server does). */
  closeDatabase?: boolean;
  /** Collect Node's default process metrics too. */
  processMetrics?: boolean;
  /** How often to prune the replay cache (default 30 s). */
  maintenanceIntervalMs?: number;
  /** How often to expire pending proposals nobody asks about (default 5 s). */
  proposalSweepMs?: number;
}

/** Headers that carry secrets: never logged. */
export const REDACTED_HEADERS = ['req.headers.authorization', 'req.headers["countersign-approval"]', 'req.headers.cookie'];

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const now = options.now ?? Date.now;
  const ttl = Math.min(options.approvalTtlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS, MAX_APPROVAL_TTL_SECONDS);
  const { db } = options.database;

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 64 * 1024,
    // Request ids are ours, never a client's (one could forge log correlation), and W3C trace ids:
    // a refusal without a token trace carries the request's id, found again in its log lines.
    requestIdHeader: false,
    genReqId: () => newTraceId(),
    frameworkErrors,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);

  const state = registry(options.database, { policy: await loadActivePolicy(db), signer: await activeReceiptSigner(db, now()) }, now);
  const metrics = createMetrics({ defaults: options.processMetrics ?? false });
  // Tokens issued before this second are refused: a crash can never reopen a consumed token,
  // even if the replay cache lost its newest rows.
  const bootEpoch = Math.ceil(now() / 1000);
  const decisions = createDecisionWriter(options.database);
  const keys = enrolledKeys();

  const context: VerifierContext = {
    database: options.database,
    extensionOrigins: options.extensionOrigins ?? DEFAULT_EXTENSION_ORIGINS,
    metrics,
    now,
    policy: () => state.current().policy,
    setPolicy: (p) => state.setPolicy(p),
    setSigner: (s) => state.setSigner(s),
    verifyDeps: {
      db,
      decisions,
      lookupKey: keyLookup(options.database, keys),
      reads: verifyReads(options.database, keys),
      refresh: () => state.refresh(),
      policy: () => state.current().policy,
      signer: () => state.current().signer,
      metrics,
      now,
      bootEpoch,
      approvalTtlSeconds: ttl,
      issuer: options.publicUrl,
    },
  };
  app.decorate('verifier', context);
  // Every other route decides with the database's policy and receipt key too (verifyAction refreshes itself,
  // for the in-process middleware as well). Unreadable: 503, as any route that needs the database.
  app.addHook('preHandler', async (request) => {
    if (request.routeOptions.url === VERIFY_ROUTE) return;
    try {
      await state.refresh();
    } catch (error) {
      throw new VerifierUnavailable('the verifier cannot read its database', { cause: error });
    }
  });

  await app.register(publicRoutes);
  await app.register(proposalRoutes, { sweepMs: options.proposalSweepMs });
  await app.register(adminRoutes, { adminToken: options.adminToken });

  // Housekeeping: forget consumed jtis whose tokens can no longer verify. A failure here is retried on
  // the next tick; it never opens anything.
  const maintenance = setInterval(() => {
    pruneConsumed(db, Math.floor(now() / 1000)).catch(() => undefined);
  }, options.maintenanceIntervalMs ?? 30_000);
  maintenance.unref();
  // Queued decision writes settle before the database can close under them.
  app.addHook('onClose', async () => {
    clearInterval(maintenance);
    await decisions.close();
    if (options.closeDatabase) await options.database.close();
  });
  return app;
}
