// The agent proposal routes (DESIGN.md, "Agent proposals"): made and polled with an agent key, listed
// and decided by an approver's device. Credentials are checked before a body is parsed. Also the
// expiry sweep, so a proposal nobody asks about still ends expired, with its record. Node only.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AgentIdentity, EnrolledKey } from '../../lib/protocol';
import { PROPOSAL_LIMITS, ProposalCreateRequest, ProposalCreated, ProposalDecided, ProposalDecision, ProposalId, ProposalList, ProposalStatus } from '../../lib/protocol';
import { agentCaller } from '../plugins/agent-auth';
import { deviceCaller } from '../plugins/device-auth';
import { ProposalWakeups } from '../proposal-wakeups';
import { createProposal, decide, pendingProposals, proposalStatus, sweepExpired } from '../proposals';

/** A proposal carries a request body of up to 1 MiB; 2 MiB leaves room for JSON escaping. */
const CREATE_BODY_LIMIT = 2 * 1024 * 1024;
const SWEEP_MS = 5000;

const IdParams = z.strictObject({ id: ProposalId });
const WaitQuery = z.strictObject({ wait: z.coerce.number().int().min(0).max(PROPOSAL_LIMITS.waitSeconds).optional() });
const ListQuery = z.strictObject({ state: z.literal('pending', { error: 'only state=pending can be listed' }) });

export async function proposalRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const ctx = fastify.verifier;
  const deps = { ctx, wakeups: new ProposalWakeups() };
  const agents = new WeakMap<FastifyRequest, AgentIdentity>();
  const devices = new WeakMap<FastifyRequest, EnrolledKey>();
  const asAgent = async (request: FastifyRequest): Promise<void> => {
    agents.set(request, await agentCaller(ctx, request));
  };
  const asDevice = async (request: FastifyRequest): Promise<void> => {
    devices.set(request, await deviceCaller(ctx, request));
  };

  app.post(
    '/v1/proposals',
    { bodyLimit: CREATE_BODY_LIMIT, onRequest: asAgent, schema: { body: ProposalCreateRequest, response: { 201: ProposalCreated } } },
    async (request, reply) => reply.code(201).header('cache-control', 'no-store').send(await createProposal(deps, agents.get(request)!, request.body)),
  );

  app.get('/v1/proposals/:id', { onRequest: asAgent, schema: { params: IdParams, querystring: WaitQuery, response: { 200: ProposalStatus } } }, async (request, reply) => {
    // A client that goes away ends its wait.
    const gone = new AbortController();
    reply.raw.once('close', () => gone.abort());
    reply.header('cache-control', 'no-store');
    return proposalStatus(deps, request.params.id, request.query.wait ?? 0, () => agentCaller(ctx, request), gone.signal);
  });

  app.get('/v1/proposals', { onRequest: asDevice, schema: { querystring: ListQuery, response: { 200: ProposalList } } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    return { proposals: await pendingProposals(deps, devices.get(request)!) };
  });

  app.post(
    '/v1/proposals/:id/decision',
    { onRequest: asDevice, schema: { params: IdParams, body: ProposalDecision, response: { 200: ProposalDecided } } },
    async (request) => decide(deps, devices.get(request)!, request.params.id, request.body),
  );

  const sweep = setInterval(() => void sweepExpired(ctx).catch(() => undefined), SWEEP_MS);
  sweep.unref();
  fastify.addHook('onReady', async () => {
    await sweepExpired(ctx).catch(() => undefined);
  });
  // Long polls end before the server waits for its connections to finish.
  fastify.addHook('preClose', async () => {
    clearInterval(sweep);
    deps.wakeups.close();
  });
}
