// The caller of an agent-authenticated route (`Authorization: Bearer <agent key>`, DESIGN.md "Agent
// proposals"): `GET /v1/agents/me` today, `POST /v1/proposals` next. Every failure is the same
// `401 unauthorized`, and nothing here ever logs or repeats the key. Node only.
import type { FastifyRequest } from 'fastify';
import { AgentKey } from '../../lib/protocol/api';
import type { AgentIdentity } from '../../lib/protocol/api';
import { CountersignError } from '../../lib/protocol';
import type { VerifierContext } from '../context';
import { agentKeyLookup } from '../store/agent-keys';

/** One compiled lookup per verifier instance (its database handle). */
const lookups = new WeakMap<VerifierContext, (key: string) => Promise<AgentIdentity | undefined>>();

/** RFC 9110: the scheme is case-insensitive; one space, then the key and nothing else. */
const BEARER = /^bearer (\S+)$/i;

/**
 * The registered agent whose unrevoked key this request presents, with the key's id. Throws
 * CountersignError `unauthorized` for a missing header, another scheme, a malformed key (refused
 * before any database read), an unknown or revoked key, or a key whose agent is no longer registered.
 */
export async function agentCaller(ctx: VerifierContext, request: FastifyRequest): Promise<AgentIdentity> {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header === '') throw new CountersignError('unauthorized', 'no agent key: send Authorization: Bearer <agent key>');
  const presented = BEARER.exec(header)?.[1];
  if (presented === undefined) throw new CountersignError('unauthorized', 'authorization is not Bearer <agent key>');
  if (!AgentKey.safeParse(presented).success) throw new CountersignError('unauthorized', 'the bearer token is not an agent key');
  let lookup = lookups.get(ctx);
  if (!lookup) {
    lookup = agentKeyLookup(ctx.database);
    lookups.set(ctx, lookup);
  }
  const identity = await lookup(presented);
  // One answer for unknown, revoked and orphaned keys: a holder learns nothing about which it is.
  if (!identity) throw new CountersignError('unauthorized', 'agent key unknown, revoked, or its agent is not registered');
  return identity;
}
