// Which agent a Countersign agent key belongs to, asked of the verifier on every request that carries
// one (`GET /v1/agents/me`): the gateway keeps no keys and no state, so a revoked key stops working at
// once on every instance. Fails closed: anything but a clear answer is 503. Node only.
import { AgentIdentity, AgentKey, CountersignError, VerifierUnavailable } from '../../lib/protocol';
import { verifierHttp } from '../middleware/verifier-http';

export interface AgentKeys {
  /** The agent's id; throws `unauthorized` for a key the verifier does not know (or revoked), 503 when it cannot be asked. */
  agentOf(key: string): Promise<string>;
}

export function remoteAgentKeys(options: { url: string; timeoutMs: number }): AgentKeys {
  const http = verifierHttp();
  const endpoint = new URL('/v1/agents/me', options.url).href;
  return {
    async agentOf(key) {
      // Anything not shaped like an agent key never leaves the gateway.
      if (!AgentKey.safeParse(key).success) throw new CountersignError('unauthorized', 'the agent key is malformed');
      let answer: { status: number; payload: unknown };
      try {
        answer = await http.call('GET', endpoint, { headers: { authorization: `Bearer ${key}` }, timeoutMs: options.timeoutMs });
      } catch (cause) {
        throw new VerifierUnavailable('the verifier did not answer', { cause });
      }
      if (answer.status === 401) throw new CountersignError('unauthorized', 'the agent key is unknown or revoked');
      const identity = answer.status === 200 ? AgentIdentity.safeParse(answer.payload) : undefined;
      if (identity?.success) return identity.data.agentId;
      throw new VerifierUnavailable(`the verifier could not say whose agent key this is (HTTP ${answer.status})`);
    },
  };
}
