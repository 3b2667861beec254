// Admin routes behind the bearer token: enrollment codes, agents and their keys, kill switch,
// devices and their revocation, events, policy, receipt- and bot-key rotation, metrics. Node only.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AgentRegistration,
  CountersignError,
  EnrollmentCodeRequest,
  EnrollmentCodeResponse,
  EventsResponse,
  Identifier,
  KillEntry,
  KillRequest,
  OrganisationPolicy,
  OrganisationPolicyVersion,
  POLICY_BOT_PREFIX,
  PayloadInvalid,
  PolicyBotName,
  TraceId,
} from '../../lib/protocol';
import { AgentKeyCreated } from '../../lib/protocol/api';
import { adminGuard } from '../plugins/admin-auth';
import { compilePolicy } from '../policy/engine';
import { createAgentKey, revokeAgentKey } from '../store/agent-keys';
import { putAgent } from '../store/agents';
import { rotateBotKey } from '../store/bot-keys';
import { decisionsForTrace } from '../store/decisions';
import { devicesOf, issueEnrollmentCode, revokeDevice } from '../store/devices';
import { engageKill, liftKill } from '../store/kills';
import { eventsForTrace } from '../store/log';
import { currentOrganisationPolicy, setOrganisationPolicy } from '../store/organisation-policy';
import { replacePolicy } from '../store/policies';
import { rotateReceiptKey } from '../store/receipt-keys';

const Ok = z.strictObject({ ok: z.literal(true) });
const DeviceList = z.strictObject({
  devices: z.array(
    z.strictObject({
      kid: z.string(),
      deviceId: z.string(),
      label: z.string(),
      createdAt: z.int(),
      revokedAt: z.int().nullable(),
      /** The device registered a WebAuthn credential: it can approve scopes that need presence. */
      presence: z.boolean(),
    }),
  ),
});
const PolicyBody = z.strictObject({ text: z.string().min(1).max(256 * 1024) });
const PolicyAnswer = z.strictObject({ version: z.string(), text: z.string() });

/** A site kill names the tool's origin; normalise it so it matches the token's `aud`. */
function normaliseKill(request: KillRequest): KillRequest {
  if (request.scope !== 'site') return request;
  try {
    return { scope: 'site', target: new URL(request.target).origin };
  } catch {
    throw new CountersignError('payload_invalid', 'body.target: a site kill needs the tool\'s origin, e.g. https://forum.corp.example');
  }
}

export async function adminRoutes(fastify: FastifyInstance, opts: { adminToken: string }): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const ctx = fastify.verifier;
  const db = ctx.database.db;
  fastify.addHook('onRequest', adminGuard(opts.adminToken));

  app.post('/v1/admin/enrollment-codes', { schema: { body: EnrollmentCodeRequest, response: { 201: EnrollmentCodeResponse } } }, async (request, reply) => {
    // A device enrolled under a bot's name would sign as that bot: bots' keys are the verifier's own.
    if (request.body.userId.startsWith(POLICY_BOT_PREFIX)) throw new PayloadInvalid(`user ids starting with ${POLICY_BOT_PREFIX} are policy bots`, 'body.userId');
    return reply.code(201).send(await issueEnrollmentCode(db, request.body.userId, ctx.now()));
  });

  app.put('/v1/admin/agents/:agentId', { schema: { params: z.strictObject({ agentId: Identifier }), body: AgentRegistration, response: { 200: AgentRegistration.extend({ id: z.string() }) } } }, async (request) => {
    return putAgent(db, request.params.agentId, request.body, ctx.now());
  });

  // The key is in this answer only (never logged: the response body is not); an unregistered agent is 404 not_found.
  app.post('/v1/admin/agents/:agentId/keys', { schema: { params: z.strictObject({ agentId: Identifier }), response: { 201: AgentKeyCreated } } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    return reply.code(201).send(await createAgentKey(db, request.params.agentId, ctx.now()));
  });

  app.delete(
    '/v1/admin/agents/:agentId/keys/:keyId',
    { schema: { params: z.strictObject({ agentId: Identifier, keyId: Identifier }), response: { 200: Ok } } },
    async (request) => {
      if (!(await revokeAgentKey(db, request.params.agentId, request.params.keyId, ctx.now()))) throw new CountersignError('not_found', 'no key with this id for this agent');
      return { ok: true as const };
    },
  );

  app.post('/v1/admin/kill', { schema: { body: KillRequest, response: { 200: KillEntry } } }, async (request) => {
    return engageKill(db, normaliseKill(request.body), ctx.now());
  });

  app.delete('/v1/admin/kill', { schema: { body: KillRequest, response: { 200: z.strictObject({ lifted: z.int() }) } } }, async (request) => {
    return { lifted: await liftKill(db, normaliseKill(request.body), ctx.now()) };
  });

  app.post('/v1/admin/devices/:kid/revoke', { schema: { params: z.strictObject({ kid: z.string().min(1).max(128) }), response: { 200: Ok } } }, async (request) => {
    if (!(await revokeDevice(db, request.params.kid, ctx.now()))) throw new CountersignError('not_found', 'no device with this kid');
    return { ok: true as const };
  });

  // Who has which device, and which can give presence: what an admin needs to replace a lost authenticator
  // (revoke the old device, issue a new code).
  app.get('/v1/admin/devices', { schema: { querystring: z.strictObject({ user: Identifier }), response: { 200: DeviceList } } }, async (request) => ({
    devices: await devicesOf(db, request.query.user),
  }));

  app.get('/v1/admin/events', { schema: { querystring: z.strictObject({ trace: TraceId }), response: { 200: EventsResponse } } }, async (request) => {
    const [events, decisions] = await Promise.all([eventsForTrace(db, request.query.trace), decisionsForTrace(db, request.query.trace)]);
    return { events, decisions };
  });

  app.get('/v1/admin/policy', { schema: { response: { 200: PolicyAnswer } } }, async () => {
    const policy = ctx.policy();
    return { version: policy.version, text: policy.text };
  });

  app.put('/v1/admin/policy', { schema: { body: PolicyBody, response: { 200: PolicyAnswer } } }, async (request) => {
    compilePolicy(request.body.text);
    const policy = await replacePolicy(db, request.body.text, ctx.now());
    ctx.setPolicy(policy);
    return { version: policy.version, text: policy.text };
  });

  app.get('/v1/admin/extension-policy', { schema: { response: { 200: OrganisationPolicyVersion } } }, async () => currentOrganisationPolicy(db));

  // A document that fails its schema is refused whole, naming the field; the version in force stays.
  app.put('/v1/admin/extension-policy', { bodyLimit: 1024 * 1024, schema: { body: OrganisationPolicy, response: { 200: OrganisationPolicyVersion } } }, async (request) =>
    setOrganisationPolicy(db, request.body, ctx.now()),
  );

  app.post('/v1/admin/receipt-keys/rotate', { schema: { response: { 200: z.strictObject({ kid: z.string() }) } } }, async () => {
    const signer = await rotateReceiptKey(db, ctx.now());
    ctx.setSigner(signer);
    return { kid: signer.kid };
  });

  // A policy bot's new signing key; its older keys are revoked at once (tokens they signed stop verifying).
  app.post('/v1/admin/policy-bots/:name/rotate', { schema: { params: z.strictObject({ name: PolicyBotName }), response: { 200: z.strictObject({ kid: z.string() }) } } }, async (request) => {
    const signer = await rotateBotKey(db, request.params.name, ctx.now());
    return { kid: signer.kid };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
