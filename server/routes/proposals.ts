// The agent proposal routes (DESIGN.md, "Agent proposals"): made and polled with an agent key, listed
// and decided by an approver's device. Credentials are checked before a body is parsed. Also the
// expiry sweep, so a proposal nobody asks about still ends expired, with its record. Node only.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AgentIdentity, EnrolledKey } from '../../lib/protocol';
import {
  ApprovalPlan,
  ApprovalPlanRequest,
  BotApprovalList,
  CountersignError,
  HeldActionPublication,
  PROPOSAL_LIMITS,
  ProposalCreateRequest,
  ProposalCreated,
  ProposalDecided,
  ProposalDecision,
  ProposalId,
  ProposalList,
  ProposalStatus,
} from '../../lib/protocol';
import { agentCaller } from '../plugins/agent-auth';
import { deviceCaller } from '../plugins/device-auth';
import { ProposalWakeups } from '../proposal-wakeups';
import { approvalPlan, botApprovalsFor } from '../policy-bots';
import { createProposal, decide, pendingProposals, proposalStatus, publishHeld, sweepExpired } from '../proposals';
import type { StatusCaller } from '../proposals';
import { botJwks } from '../store/bot-keys';
import { recordWaitEnded } from '../store/proposals';

/** A proposal carries a request body of up to 1 MiB; 2 MiB leaves room for JSON escaping. */
const CREATE_BODY_LIMIT = 2 * 1024 * 1024;
/** How often pending proposals past their expiry are expired when nobody asks about them. */
export const DEFAULT_PROPOSAL_SWEEP_MS = 5000;

const IdParams = z.strictObject({ id: ProposalId });
const BotJwks = z.strictObject({ keys: z.array(z.looseObject({ kid: z.string(), bot: z.string(), revoked: z.boolean() })) });
const WaitQuery = z.strictObject({ wait: z.coerce.number().int().min(0).max(PROPOSAL_LIMITS.waitSeconds).optional() });
const ListQuery = z.strictObject({ state: z.literal('pending', { error: 'only state=pending can be listed' }) });

export async function proposalRoutes(fastify: FastifyInstance, options: { sweepMs?: number }): Promise<void> {
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
  /** A proposal's state is asked by its agent (agent key) or by the device that published a held action (device proof). */
  const asAgentOrDevice = async (request: FastifyRequest): Promise<void> => {
    if (/^countersign-device /i.test(request.headers.authorization ?? '')) await asDevice(request);
    else await asAgent(request);
  };

  /** A publishing device's wait: its proof is single use, so each wake-up reads its key's revocation instead. */
  const stillEnrolled = (device: EnrolledKey) => async (): Promise<StatusCaller> => {
    const key = await ctx.verifyDeps.lookupKey(device.kid);
    if (!key || key.revoked) throw new CountersignError('unauthorized', 'this device was revoked');
    return { kind: 'device', device };
  };

  /**
   * The long poll's caller at each wake-up: first as this request authenticated it, then its key
   * again; a key that fails mid-wait (revoked) ends the wait, recorded under the proposal's trace.
   */
  const reauthenticating = (request: FastifyRequest, id: string, authenticated: AgentIdentity) => {
    let first = true;
    return async (): Promise<StatusCaller> => {
      if (first) {
        first = false;
        return { kind: 'agent', identity: authenticated };
      }
      try {
        return { kind: 'agent', identity: await agentCaller(ctx, request) };
      } catch (error) {
        if (!(error instanceof CountersignError)) throw error;
        const traceId = await recordWaitEnded(ctx.database.db, id, authenticated.agentId, error.code, ctx.policy().version, ctx.now()).catch(() => undefined);
        throw new CountersignError(error.code, error.message, { cause: error, ...(traceId !== undefined ? { traceId } : {}) });
      }
    };
  };

  app.post(
    '/v1/proposals',
    { bodyLimit: CREATE_BODY_LIMIT, onRequest: asAgent, schema: { body: ProposalCreateRequest, response: { 201: ProposalCreated } } },
    async (request, reply) => reply.code(201).header('cache-control', 'no-store').send(await createProposal(deps, agents.get(request)!, request.body)),
  );

  app.get('/v1/proposals/:id', { onRequest: asAgentOrDevice, schema: { params: IdParams, querystring: WaitQuery, response: { 200: ProposalStatus } } }, async (request, reply) => {
    // A client that goes away ends its wait.
    const gone = new AbortController();
    reply.raw.once('close', () => gone.abort());
    reply.header('cache-control', 'no-store');
    const device = devices.get(request);
    const caller = device ? stillEnrolled(device) : reauthenticating(request, request.params.id, agents.get(request)!);
    const status = await proposalStatus(deps, request.params.id, request.query.wait ?? 0, caller, gone.signal);
    // A wait ended by the verifier closing: without this the keep-alive connection would hold
    // server.close() until the client's idle timeout (72 s).
    if (deps.wakeups.isClosed) reply.header('connection', 'close');
    return status;
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

  app.post(
    '/v1/proposals/held',
    { bodyLimit: CREATE_BODY_LIMIT, onRequest: asDevice, schema: { body: HeldActionPublication, response: { 201: ProposalCreated } } },
    async (request, reply) => reply.code(201).header('cache-control', 'no-store').send(await publishHeld(deps, devices.get(request)!, request.body)),
  );

  app.post(
    '/v1/approval-plan',
    { bodyLimit: CREATE_BODY_LIMIT, onRequest: asDevice, schema: { body: ApprovalPlanRequest, response: { 200: ApprovalPlan } } },
    async (request, reply) => reply.header('cache-control', 'no-store').send(await approvalPlan(ctx, devices.get(request)!, request.body)),
  );

  app.get('/v1/policy-bot/approvals', { onRequest: asDevice, schema: { response: { 200: BotApprovalList } } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    return { approvals: await botApprovalsFor(ctx, devices.get(request)!) };
  });

  // The bots' public keys, published as a JWKS (with each key's bot and whether it was revoked).
  app.get('/v1/policy-bot/keys', { schema: { response: { 200: BotJwks } } }, async () => botJwks(ctx.database.db));

  const sweep = setInterval(() => void sweepExpired(ctx).catch(() => undefined), options.sweepMs ?? DEFAULT_PROPOSAL_SWEEP_MS);
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
