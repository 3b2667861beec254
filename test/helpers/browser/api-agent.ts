// An agent that acts through the tools' APIs, as the browser tests drive it: an agent key from the
// admin API, then the agent client (lib/agent) — a proposal to the verifier, the long poll for its
// owner's decision, exactly the proposed request to the tool with the token. Node only (browser tests).
import { createAgentClient } from '@/lib/agent';
import type { AgentClient, Decision } from '@/lib/agent';
import type { ActionRequest, ProposalCreated } from '@/lib/protocol/index';
import type { Stack } from './stack';

/** The demo access console's agent key for agent:access-helper (demo/store.ts seeds it). */
export const ACCESS_HELPER_TOOL_KEY = 'access-helper-key';

export class ApiAgent {
  private constructor(
    readonly agentId: string,
    private readonly client: AgentClient,
  ) {}

  /** A fresh agent key for `agentId`, from the admin API (shown once). */
  static async key(stack: Stack, agentId: string): Promise<string> {
    const res = await stack.admin('POST', `/v1/admin/agents/${encodeURIComponent(agentId)}/keys`);
    if (res.status !== 201) throw new Error(`the admin API answered ${res.status} to a new agent key: ${await res.text()}`);
    return ((await res.json()) as { key: string }).key;
  }

  static async create(stack: Stack, agentId: string): Promise<ApiAgent> {
    return new ApiAgent(agentId, createAgentClient({ verifier: stack.verifierUrl, agentKey: await ApiAgent.key(stack, agentId) }));
  }

  propose(request: ActionRequest, scope: string, summary: string): Promise<ProposalCreated> {
    return this.client.propose({ request, scope, summary });
  }

  /** Until the proposal is decided or expires; two minutes at most. */
  waitForDecision(id: string): Promise<Decision> {
    return this.client.waitForDecision(id, { timeoutMs: 120_000 });
  }

  /** Exactly the proposed request, with the approval token and the tool's own agent key. */
  execute(request: ActionRequest, token: string, toolKey: string): Promise<Response> {
    return this.client.execute(request, token, { headers: { 'x-agent-key': toolKey, accept: 'application/json' } });
  }
}
