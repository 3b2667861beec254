// An agent that acts through the tools' APIs, as the browser tests drive it: an agent key from the
// admin API, a proposal to the verifier, the long poll for its owner's decision, then exactly the
// proposed request to the tool with the token (or nothing, when rejected). Node only (browser tests).
import { ProposalCreated, ProposalStatus } from '@/lib/protocol/index';
import type { ActionRequest } from '@/lib/protocol/index';
import type { Stack } from './stack';

/** The demo access console's agent key for agent:access-helper (demo/store.ts seeds it). */
export const ACCESS_HELPER_TOOL_KEY = 'access-helper-key';

export class ApiAgent {
  private constructor(
    private readonly stack: Stack,
    readonly agentId: string,
    private readonly key: string,
  ) {}

  /** A fresh agent key for `agentId`, from the admin API (shown once). */
  static async create(stack: Stack, agentId: string): Promise<ApiAgent> {
    const res = await stack.admin('POST', `/v1/admin/agents/${encodeURIComponent(agentId)}/keys`);
    if (res.status !== 201) throw new Error(`the admin API answered ${res.status} to a new agent key: ${await res.text()}`);
    const { key } = (await res.json()) as { key: string };
    return new ApiAgent(stack, agentId, key);
  }

  async propose(request: ActionRequest, scope: string, summary: string): Promise<ProposalCreated> {
    const res = await fetch(new URL('/v1/proposals', this.stack.verifierUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${this.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ request, scope, summary }),
    });
    if (res.status !== 201) throw new Error(`the verifier answered ${res.status} to the proposal: ${await res.text()}`);
    return ProposalCreated.parse(await res.json());
  }

  /** Long-polls until the proposal is no longer pending (each call waits up to 30 s on the verifier). */
  async waitForDecision(id: string, rounds = 4): Promise<ProposalStatus> {
    for (let i = 0; i < rounds; i++) {
      const res = await fetch(new URL(`/v1/proposals/${id}?wait=30`, this.stack.verifierUrl), { headers: { authorization: `Bearer ${this.key}` } });
      if (!res.ok) throw new Error(`the verifier answered ${res.status} to the wait: ${await res.text()}`);
      const status = ProposalStatus.parse(await res.json());
      if (status.state !== 'pending') return status;
    }
    throw new Error(`proposal ${id} was still pending after ${rounds} waits`);
  }

  /** Sends exactly the proposed request to the tool, with the approval token and the tool's own agent key. */
  static async execute(request: ActionRequest, token: string, toolKey: string): Promise<Response> {
    return fetch(request.url, {
      method: request.method,
      headers: { 'countersign-approval': token, 'x-agent-key': toolKey, accept: 'application/json', ...(request.contentType ? { 'content-type': request.contentType } : {}) },
      ...(request.body !== null ? { body: request.body } : {}),
    });
  }
}
