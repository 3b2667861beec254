// Public verifier routes: enroll, verify, log batch, status, JWKS; the device-authenticated
// extension policy and receipt lookup; the agent-authenticated `GET /v1/agents/me`. Node only.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  EnrollRequest,
  EnrollResponse,
  Jwks,
  LogBatchResponse,
  MAX_LOG_BATCH_BYTES,
  OrganisationPolicyVersion,
  StatusResponse,
  VerifyRequest,
  VerifyResponse,
  verifyLogBatch,
} from '../../lib/protocol';
import { AgentIdentity, ReceiptLookupRequest, ReceiptLookupResponse } from '../../lib/protocol/api';
import { agentCaller } from '../plugins/agent-auth';
import { deviceCaller } from '../plugins/device-auth';
import { enrollDevice } from '../store/devices';
import { currentOrganisationPolicy } from '../store/organisation-policy';
import { activeKills } from '../store/kills';
import { ingestBatch } from '../store/log';
import { receiptJwks } from '../store/receipt-keys';
import { lookupReceipts } from '../store/receipts';
import { verifyAction } from '../verify';

const ServiceIndex = z.strictObject({ name: z.string(), version: z.string(), links: z.record(z.string(), z.string()) });

/** The package version, read once (the verifier runs from the repository). */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A verify body carries a request body of up to 1 MiB plus the token; 2 MiB leaves room for JSON escaping. */
const VERIFY_BODY_LIMIT = 2 * 1024 * 1024;

/** DESIGN.md's verify endpoint (app.ts skips its registry refresh: verifyAction does its own). */
export const VERIFY_ROUTE = '/v1/verify';

export async function publicRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const ctx = fastify.verifier;

  app.post('/v1/enroll', { schema: { body: EnrollRequest, response: { 201: EnrollResponse } } }, async (request, reply) => {
    const enrolled = await enrollDevice(ctx.database.db, request.body, ctx.now(), ctx.extensionOrigins);
    return reply.code(201).send(enrolled);
  });

  app.post(VERIFY_ROUTE, { bodyLimit: VERIFY_BODY_LIMIT, schema: { body: VerifyRequest, response: { 200: VerifyResponse } } }, async (request) => {
    const { allow, receipt, traceId } = await verifyAction(ctx.verifyDeps, request.body);
    return { allow, receipt, traceId };
  });

  // The body is the compact JWS itself (`application/jose`), parsed as text here and checked by verifyLogBatch.
  fastify.addContentTypeParser('application/jose', { parseAs: 'string', bodyLimit: MAX_LOG_BATCH_BYTES + 1024 }, (_req, body, done) => done(null, body));
  app.post('/v1/log/batch', { bodyLimit: MAX_LOG_BATCH_BYTES + 1024, schema: { body: z.string(), response: { 200: LogBatchResponse } } }, async (request) => {
    const { payload } = await verifyLogBatch(request.body, ctx.verifyDeps.lookupKey);
    const result = await ingestBatch(ctx.database.db, ctx.database.dialect, payload, ctx.now());
    ctx.metrics.eventsIngested.inc(result.fresh);
    return { ackedSeq: result.ackedSeq };
  });

  app.get('/v1/status', { schema: { response: { 200: StatusResponse } } }, async () => {
    const entries = await activeKills(ctx.database.db);
    return { killSwitch: { engaged: entries.length > 0, entries }, policyVersion: ctx.policy().version, time: ctx.now() };
  });

  // The organisation's extension policy, for enrolled devices; ETag is the version, so a poll that
  // finds nothing new costs one small 304.
  // No response schema in Fastify's terms: a 304 has no body to serialise; the 200 is parsed here.
  fastify.get('/v1/extension-policy', async (request, reply) => {
    await deviceCaller(ctx, request);
    const current = await currentOrganisationPolicy(ctx.database.db);
    const etag = `"${current.version}"`;
    reply.header('etag', etag).header('cache-control', 'no-cache');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return OrganisationPolicyVersion.parse(current);
  });

  // Receipts for tools that cannot render them: a reader's extension asks by the cdg of each post's
  // text. The device proof is checked before the body is even parsed.
  app.post(
    '/v1/receipts/lookup',
    {
      onRequest: async (request) => {
        await deviceCaller(ctx, request);
      },
      schema: { body: ReceiptLookupRequest, response: { 200: ReceiptLookupResponse } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { receipts: await lookupReceipts(ctx.database.db, request.body.site, request.body.cdgs) };
    },
  );

  // Which agent a key belongs to: the gateway asks, for the key an agent presented to it.
  app.get('/v1/agents/me', { schema: { response: { 200: AgentIdentity } } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    return agentCaller(ctx, request);
  });

  app.get('/', { schema: { response: { 200: ServiceIndex } } }, async () => ({
    name: 'Countersign verifier',
    version: VERSION,
    links: { status: '/v1/status', jwks: '/.well-known/jwks.json', api: 'docs/protocol.md in the Countersign repository' },
  }));

  app.get('/.well-known/jwks.json', { schema: { response: { 200: Jwks } } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return receiptJwks(ctx.database.db);
  });
}
