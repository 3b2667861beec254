// The caller of a device-authenticated route (DESIGN.md, "Device-authenticated requests"): the
// proof is checked against this verifier's public URL plus the path and query received, never a
// Host the client chose. Node only.
import type { FastifyRequest } from 'fastify';
import type { EnrolledKey } from '../../lib/protocol';
import { verifyDeviceProof } from '../../lib/protocol';
import type { VerifierContext } from '../context';
import { consumeDeviceProof } from '../store/device-proofs';

/** The enrolled device that signed this request; throws TokenRejected (401/403/409) otherwise. */
export function deviceCaller(ctx: VerifierContext, request: FastifyRequest): Promise<EnrolledKey> {
  const base = new URL(ctx.verifyDeps.issuer);
  return verifyDeviceProof(request.headers.authorization, {
    lookupKey: ctx.verifyDeps.lookupKey,
    method: request.method,
    url: `${base.origin}${request.url.startsWith('/') ? request.url : '/'}`,
    now: Math.floor(ctx.now() / 1000),
    consume: (entry) => consumeDeviceProof(ctx.database.db, entry),
  });
}
