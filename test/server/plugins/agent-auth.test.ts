// agentCaller: `Authorization: Bearer <agent key>` → the agent, or 401 unauthorized for every way a
// key can be missing, wrong or dead — without ever repeating the key. SQLite and PostgreSQL. Node only (tests).
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersignError } from '../../../lib/protocol';
import { agentCaller } from '../../../server/plugins/agent-auth';
import { DATABASES, startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

const asRequest = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as unknown as FastifyRequest;

describe.each(DATABASES)('agentCaller (%s)', (kind) => {
  let v: TestVerifier;
  let key: string;
  let keyId: string;

  beforeAll(async () => {
    v = await startVerifier(kind);
    await v.registerAgent('agent:forum-helper', 'alice');
    ({ key, keyId } = (await v.admin('POST', '/v1/admin/agents/agent:forum-helper/keys')).json() as { key: string; keyId: string });
  });
  afterAll(() => v.close());

  async function refusal(authorization?: string): Promise<CountersignError> {
    const error: unknown = await agentCaller(v.app.verifier, asRequest(authorization)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CountersignError);
    return error as CountersignError;
  }

  it('names the agent and the key for a live key', async () => {
    await expect(agentCaller(v.app.verifier, asRequest(`Bearer ${key}`))).resolves.toEqual({ agentId: 'agent:forum-helper', keyId });
    // The scheme is case-insensitive (RFC 9110).
    await expect(agentCaller(v.app.verifier, asRequest(`bearer ${key}`))).resolves.toEqual({ agentId: 'agent:forum-helper', keyId });
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty header', ''],
    ['another scheme', 'Basic YWxpY2U6c2VjcmV0'],
    ['a device proof', 'Countersign-Device eyJhbGciOiJFUzI1NiJ9.e30.AAAA'],
    ['Bearer with nothing after it', 'Bearer '],
    ['two spaces', 'Bearer  csa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a trailing word', 'Bearer csa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA extra'],
    ['the admin token', 'Bearer test-admin-token-0123456789'],
    ['no csa_ prefix', 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['too short', 'Bearer csa_AAAA'],
    ['too long', `Bearer csa_${'A'.repeat(44)}`],
    ['non-canonical base64url (unused bits set)', `Bearer csa_${'A'.repeat(42)}B`],
    ['padding', `Bearer csa_${'A'.repeat(42)}=`],
    ['standard base64 characters', `Bearer csa_${'A'.repeat(41)}+A`],
  ])('%s → 401 unauthorized', async (_name, authorization) => {
    const error = await refusal(authorization);
    expect(error.code).toBe('unauthorized');
    expect(error.status).toBe(401);
  });

  it('an unknown key of the right form → 401 unauthorized, and the message does not repeat it', async () => {
    const unknown = `csa_${'Q'.repeat(42)}A`;
    const error = await refusal(`Bearer ${unknown}`);
    expect(error.code).toBe('unauthorized');
    expect(error.message).not.toContain(unknown.slice(4));
  });

  it('a revoked key → 401 unauthorized from the next request; the agent\'s other key still works', async () => {
    const second = (await v.admin('POST', '/v1/admin/agents/agent:forum-helper/keys')).json() as { key: string; keyId: string };
    await expect(agentCaller(v.app.verifier, asRequest(`Bearer ${second.key}`))).resolves.toMatchObject({ keyId: second.keyId });
    expect((await v.admin('DELETE', `/v1/admin/agents/agent:forum-helper/keys/${second.keyId}`)).statusCode).toBe(200);
    const error = await refusal(`Bearer ${second.key}`);
    expect(error.code).toBe('unauthorized');
    expect(error.message).not.toContain(second.key.slice(4));
    await expect(agentCaller(v.app.verifier, asRequest(`Bearer ${key}`))).resolves.toMatchObject({ keyId });
  });

  it('a key whose agent is no longer registered → 401 unauthorized', async () => {
    await v.registerAgent('agent:retired', 'alice');
    const retired = (await v.admin('POST', '/v1/admin/agents/agent:retired/keys')).json() as { key: string };
    await expect(agentCaller(v.app.verifier, asRequest(`Bearer ${retired.key}`))).resolves.toMatchObject({ agentId: 'agent:retired' });
    await v.database.db.deleteFrom('agents').where('agent_id', '=', 'agent:retired').execute();
    expect((await refusal(`Bearer ${retired.key}`)).code).toBe('unauthorized');
  });
});
