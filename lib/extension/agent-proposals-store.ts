// Where the background keeps agent proposals (a setting row of the database: the verifier's last list,
// the ids seen, decisions in flight), and the toolbar's share of them. Extension origin only.
import { AgentProposalsState, EMPTY_AGENT_PROPOSALS, waitingCount } from './agent-proposals';
import { defineSetting } from './settings';

export const agentProposalsSetting = defineSetting<AgentProposalsState>('agent-proposals', { schema: AgentProposalsState, fallback: EMPTY_AGENT_PROPOSALS });

/** The toolbar's share: agent proposals waiting for the owner. */
export async function agentProposalCount(now = Date.now()): Promise<number> {
  return waitingCount(await agentProposalsSetting.getValue(), now);
}
