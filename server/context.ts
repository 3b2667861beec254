// The verifier's per-instance state shared by its routes and the in-process middleware. Node only.
import type { DatabaseHandle } from './db/connect';
import type { VerifierMetrics } from './metrics';
import type { PolicySet } from './policy/engine';
import type { ReceiptSigner } from './store/receipt-keys';
import type { VerifyDeps } from './verify';

export interface VerifierContext {
  database: DatabaseHandle;
  /** Extension origins a device's WebAuthn credential may be registered from (pinned per credential). */
  extensionOrigins: readonly string[];
  metrics: VerifierMetrics;
  verifyDeps: VerifyDeps;
  now(): number;
  policy(): PolicySet;
  setPolicy(policy: PolicySet): void;
  setSigner(signer: ReceiptSigner): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    verifier: VerifierContext;
  }
}
