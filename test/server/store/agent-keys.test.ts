// Agent keys in the store, on SQLite and PostgreSQL: made only for a registered agent, kept only as
// their SHA-256, found by that hash exactly, several live per agent, revoked one by one, and dead
// with their agent's registration. Node only (tests).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentKey } from '../../../lib/protocol/api';
import { agentKeyHash, agentKeyLookup, createAgentKey, revokeAgentKey } from '../../../server/store/agent-keys';
import { DATABASES, T0, startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

describe.each(DATABASES)('agent keys (%s)', (kind) => {
  let v: TestVerifier;
  let lookup: (key: string) => Promise<{ agentId: string; keyId: string } | undefined>;

  beforeAll(async () => {
    v = await startVerifier(kind);
    await v.registerAgent('agent:forum-helper', 'alice');
    await v.registerAgent('agent:wiki-helper', 'bob');
    lookup = agentKeyLookup(v.database);
  });
  afterAll(() => v.close());

  it('makes a csa_ key of 32 random bytes and a key id; two keys never repeat', async () => {
    const a = await createAgentKey(v.database.db, 'agent:forum-helper', T0);
    const b = await createAgentKey(v.database.db, 'agent:forum-helper', T0);
    expect(a.key).toMatch(/^csa_[A-Za-z0-9_-]{43}$/);
    expect(AgentKey.safeParse(a.key).success).toBe(true);
    expect(Buffer.from(a.key.slice(4), 'base64url')).toHaveLength(32);
    expect(a.key).not.toBe(b.key);
    expect(a.keyId).not.toBe(b.keyId);
  });

  it('stores only the SHA-256 (hex) of the key, with its agent, creation time and no revocation', async () => {
    const { key, keyId } = await createAgentKey(v.database.db, 'agent:forum-helper', T0 + 5);
    const rows = await v.database.db.selectFrom('agent_keys').selectAll().where('key_id', '=', keyId).execute();
    expect(rows).toEqual([{ key_id: keyId, key_hash: createHash('sha256').update(key).digest('hex'), agent_id: 'agent:forum-helper', created_at: T0 + 5, revoked_at: null }]);
    expect(agentKeyHash(key)).toBe(rows[0]!.key_hash);
    // Nothing in the table holds the key itself, or its random part.
    const everything = JSON.stringify(await v.database.db.selectFrom('agent_keys').selectAll().execute());
    expect(everything).not.toContain(key.slice(4));
  });

  it('refuses a key for an agent that is not registered (404 not_found), and stores nothing', async () => {
    await expect(createAgentKey(v.database.db, 'agent:nobody', T0)).rejects.toMatchObject({ code: 'not_found', status: 404 });
    expect(await v.database.db.selectFrom('agent_keys').select('key_id').where('agent_id', '=', 'agent:nobody').execute()).toEqual([]);
  });

  it('finds the agent by the exact key only: one changed character, a prefix or a case change finds nothing', async () => {
    const { key, keyId } = await createAgentKey(v.database.db, 'agent:wiki-helper', T0);
    expect(await lookup(key)).toEqual({ agentId: 'agent:wiki-helper', keyId });
    const flipped = `${key.slice(0, 10)}${key[10] === 'A' ? 'B' : 'A'}${key.slice(11)}`;
    for (const wrong of [flipped, key.slice(0, -1), `${key}A`, key.toUpperCase(), key.slice(4), agentKeyHash(key)]) expect(await lookup(wrong)).toBeUndefined();
  });

  it('the key hash is unique: a second row with the same hash is refused by the database', async () => {
    const { key } = await createAgentKey(v.database.db, 'agent:wiki-helper', T0);
    await expect(
      v.database.db.insertInto('agent_keys').values({ key_id: 'agk_dup', key_hash: agentKeyHash(key), agent_id: 'agent:forum-helper', created_at: T0, revoked_at: null }).execute(),
    ).rejects.toThrow();
  });

  it('rotation: several keys of one agent are live at once; revoking one leaves the others working', async () => {
    const old = await createAgentKey(v.database.db, 'agent:forum-helper', T0);
    const fresh = await createAgentKey(v.database.db, 'agent:forum-helper', T0 + 1);
    expect(await lookup(old.key)).toEqual({ agentId: 'agent:forum-helper', keyId: old.keyId });
    expect(await lookup(fresh.key)).toEqual({ agentId: 'agent:forum-helper', keyId: fresh.keyId });
    expect(await revokeAgentKey(v.database.db, 'agent:forum-helper', old.keyId, T0 + 2)).toBe(true);
    expect(await lookup(old.key)).toBeUndefined();
    expect(await lookup(fresh.key)).toEqual({ agentId: 'agent:forum-helper', keyId: fresh.keyId });
    const row = await v.database.db.selectFrom('agent_keys').select('revoked_at').where('key_id', '=', old.keyId).executeTakeFirstOrThrow();
    expect(row.revoked_at).toBe(T0 + 2);
  });

  it('revocation is idempotent, keeps the first revocation time, and names only this agent\'s keys', async () => {
    const { key, keyId } = await createAgentKey(v.database.db, 'agent:forum-helper', T0);
    // Another agent's id with this key id: not found, and the key stays live.
    expect(await revokeAgentKey(v.database.db, 'agent:wiki-helper', keyId, T0 + 1)).toBe(false);
    expect(await lookup(key)).toBeDefined();
    expect(await revokeAgentKey(v.database.db, 'agent:forum-helper', keyId, T0 + 2)).toBe(true);
    expect(await revokeAgentKey(v.database.db, 'agent:forum-helper', keyId, T0 + 3)).toBe(true);
    expect((await v.database.db.selectFrom('agent_keys').select('revoked_at').where('key_id', '=', keyId).executeTakeFirstOrThrow()).revoked_at).toBe(T0 + 2);
    expect(await revokeAgentKey(v.database.db, 'agent:forum-helper', 'agk_no-such-key', T0)).toBe(false);
  });

  it('a key dies with its agent: an unregistered agent\'s key finds nothing, and re-registering the id does not revive it', async () => {
    await v.registerAgent('agent:short-lived', 'alice');
    const { key } = await createAgentKey(v.database.db, 'agent:short-lived', T0);
    expect(await lookup(key)).toMatchObject({ agentId: 'agent:short-lived' });
    await v.database.db.deleteFrom('agents').where('agent_id', '=', 'agent:short-lived').execute();
    expect(await lookup(key)).toBeUndefined();
    await v.registerAgent('agent:short-lived', 'mallory');
    expect(await lookup(key)).toBeUndefined();
  });

  it('a re-registration (new owner, same id) keeps the agent\'s keys: it is the same agent', async () => {
    const { key, keyId } = await createAgentKey(v.database.db, 'agent:wiki-helper', T0);
    await v.registerAgent('agent:wiki-helper', 'carol', ['wiki.edit'], ['http://wiki.corp.example']);
    expect(await lookup(key)).toEqual({ agentId: 'agent:wiki-helper', keyId });
  });
});
