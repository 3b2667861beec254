// The popup's words for agent proposals: what became of a decision, who approved first and how many
// approvers policy requires, and why none can be approved now. Pure; the background refuses the same cases on its own, whatever the popup shows. Extension
// page only.
import type { AgentDecisionView, AgentProposalsView } from '@/lib/messaging/contract';
import type { PendingProposal } from '@/lib/protocol/proposals';

/** More than one approver: who approved so far (the publisher first) and how many policy requires; null for a proposal one person decides. */
export function quorumText(proposal: Pick<PendingProposal, 'quorum' | 'approvals' | 'publishedBy'>): string | null {
  if (proposal.quorum <= 1) return null;
  const names = proposal.approvals.map((a) => a.approver);
  const so = names.length ? `approved by ${names.join(' and ')} so far` : 'nobody has approved yet';
  const held = proposal.publishedBy ? `Held in ${proposal.publishedBy}'s browser; ` : '';
  return `${held}needs ${proposal.quorum} approvers (policy requires ${proposal.quorum}): ${so}.`;
}

export function decisionText(decision: AgentDecisionView): string {
  const what = decision.kind === 'approve' ? 'Approved' : 'Rejected';
  if (decision.state === 'delivered' && decision.answered === 'pending') {
    const n = decision.more ?? 1;
    return `Your approval is counted; waiting for ${n} more approver${n === 1 ? '' : 's'}.`;
  }
  if (decision.state === 'delivered') return `${what}: the verifier has your decision${decision.kind === 'approve' ? ', and the agent may now send this one request' : ''}.`;
  if (decision.state === 'sending') return `${what} here, not yet taken by the verifier${decision.message ? ` (${decision.message})` : ''}: it is sent again until it is.`;
  if (decision.code === 'already_decided') return 'Already decided (on another device, or by an earlier answer): your decision was not needed.';
  return `The verifier refused this decision: ${decision.code ?? 'refused'}${decision.message ? ` (${decision.message})` : ''}.`;
}

/** Why no agent proposal can be approved from this list, or null when approving is possible. */
export function agentApproveBlock(view: AgentProposalsView | null, error: string | null): string | null {
  if (!view) return error ? 'Countersign could not read the agent proposals (see above), so nothing can be approved from here.' : 'Asking the verifier…';
  if (!view.enrolled) return 'This browser is not enrolled: enroll it in the options page.';
  if (view.kill.engaged) return 'A kill switch is on: nothing can be approved until it is off.';
  if (!view.reachable) return `The verifier did not answer${view.error ? ` (${view.error})` : ''}: nothing can be approved until it does.`;
  return null;
}
