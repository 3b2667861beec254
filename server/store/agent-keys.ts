// Agent keys (DESIGN.md, "Agent proposals"): made for a registered agent, shown once, kept only as
// their SHA-256, found by that hash exactly, revocable one by one (several live per agent, for
// rotation). An unknown agent, or a key that is not that agent's, is `not_found` (404): the code the
// admin API already answers for a revocation of an unknown device. Node only.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AgentIdentity, AgentKeyCreated } from '../../lib/protocol/api';
import { AGENT_KEY_PREFIX } from '../../lib/protocol/api';
import { CountersignError } from '../../lib/protocol';
import type { DatabaseHandle } from '../db/connect';
import type { Database } from '../db/schema';
import { newId } from './ids';

/** 32 random bytes: a key cannot be guessed, so a plain hash (no salt, no stretching) is enough to store it. */
const KEY_BYTES = 32;

/** What is stored for a presented key: lower-case hex SHA-256 of the whole key, prefix included. */
export function agentKeyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Makes a key for a registered agent; the answer is the only place the key ever appears. */
export async function createAgentKey(db: Kysely<Database>, agentId: string, now: number): Promise<AgentKeyCreated> {
  const key = `${AGENT_KEY_PREFIX}${randomBytes(KEY_BYTES).toString('base64url')}`;
  const keyId = newId('agk');
  await db.transaction().execute(async (trx) => {
    // The registration is checked in the same transaction; the foreign key keeps a key from
    // outliving an agent removed meanwhile.
    const agent = await trx.selectFrom('agents').select('agent_id').where('agent_id', '=', agentId).executeTakeFirst();
    if (!agent) throw new CountersignError('not_found', 'no agent registered with this id');
    await trx.insertInto('agent_keys').values({ key_id: keyId, key_hash: agentKeyHash(key), agent_id: agentId, created_at: now, revoked_at: null }).execute();
  });
  return { keyId, key };
}

/**
 * Revokes one key of one agent (idempotent: true while the key exists, revoked before or now); false
 * for a key id that is not this agent's. The agent's other keys stay valid.
 */
export async function revokeAgentKey(db: Kysely<Database>, agentId: string, keyId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('agent_keys')
    .set({ revoked_at: now })
    .where('key_id', '=', keyId)
    .where('agent_id', '=', agentId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) > 0) return true;
  return (await db.selectFrom('agent_keys').select('key_id').where('key_id', '=', keyId).where('agent_id', '=', agentId).executeTakeFirst()) !== undefined;
}

/**
 * The agent a presented key belongs to: exact match on the key's hash (unique index), only while
 * the key is unrevoked and its agent still registered. Read from the database on every call, so a
 * revocation on any replica counts from the next request.
 */
export function agentKeyLookup({ db, prepare }: DatabaseHandle): (key: string) => Promise<AgentIdentity | undefined> {
  const select = prepare(['keyHash'], ({ keyHash }) =>
    db
      .selectFrom('agent_keys')
      .innerJoin('agents', 'agents.agent_id', 'agent_keys.agent_id')
      .select(['agent_keys.key_id', 'agent_keys.agent_id'])
      .where('agent_keys.key_hash', '=', keyHash)
      .where('agent_keys.revoked_at', 'is', null),
  );
  return async (key) => {
    const [row] = await select({ keyHash: agentKeyHash(key) });
    return row ? { agentId: row.agent_id, keyId: row.key_id } : undefined;
  };
}
