// Which agent a Countersign agent key belongs to, asked of the verifier on every request that carries
// one (`GET /v1/agents/me`): the gateway keeps no keys and no state, so a revoked key stops working at
// once on every instance. Fails closed: anything but a clear answer is 503. Node only.
import { AgentIdentity, AgentKey, CountersignError, VerifierUnavailable } from '../../lib/protocol';

export interface AgentKeys {
  /** The agent's id; throws `unauthorized` for a key the verifier does not know (or revoked), 503 when it cannot be asked. */
  agentOf(key: string): Promise<string>;
}

export function remoteAgentKeys(options: { url: string; timeoutMs: number; fetch?: typeof fetch }): AgentKeys {
  const doFetch = options.fetch ?? fetch;
  const endpoint = new URL('/v1/agents/me', options.url).href;
  return {
    async agentOf(key) {
      // Anything not shaped like an agent key never leaves the gateway.
      if (!AgentKey.safeParse(key).success) throw new CountersignError('unauthorized', 'the agent key is malformed');
      let response: Response;
      try {
        response = await doFetch(endpoint, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (cause) {
        throw new VerifierUnavailable('the verifier did not answer', { cause });
      }
      const payload: unknown = await response.json().catch(() => undefined);
      if (response.status === 401) throw new CountersignError('unauthorized', 'the agent key is unknown or revoked');
      const identity = response.ok ? AgentIdentity.safeParse(payload) : undefined;
      if (identity?.success) return identity.data.agentId;
      throw new VerifierUnavailable(`the verifier could not say whose agent key this is (HTTP ${response.status})`);
    },
  };
}
