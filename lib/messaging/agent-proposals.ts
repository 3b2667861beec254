// The popup's messages about agent proposals (DESIGN.md, "Agent proposals"): the list it shows, each
// with its review and any decision this device made, and the owner's decision. Schemas with
// same-named types; the background parses what the popup sends, and its answers are checked against
// these before they leave. Runtime-neutral; extension pages import the types only.
import { z } from 'zod';
import { BotApprovalRecord, Diff, PROPOSAL_LIMITS, PendingProposal, ProposalId, WebAuthnAssertion } from '../protocol/index';
import { KillStateView } from './views';

export const AgentDecisionView = z.strictObject({
  kind: z.enum(['approve', 'reject']),
  /** `sending`: stored, not yet taken by the verifier (retried); `refused`: the verifier's code says why. */
  state: z.enum(['sending', 'delivered', 'refused']),
  /** What the proposal became once the verifier took it: `pending` while a quorum still needs others. */
  answered: z.enum(['pending', 'approved', 'rejected']).nullable(),
  /** After an approval counted toward a quorum: how many more approvers it needs. */
  more: z.number().nullable(),
  code: z.string().nullable(),
  message: z.string().nullable(),
});
export type AgentDecisionView = z.infer<typeof AgentDecisionView>;

export const AgentProposalItem = z.strictObject({
  proposal: PendingProposal,
  review: z.strictObject({
    site: z.string(),
    adapterId: z.string().nullable(),
    diff: Diff.nullable(),
    contentField: z.string().nullable(),
    beforeNote: z.string().nullable(),
  }),
  /** The listed digest is the digest of the listed request: false means nothing can be signed. */
  digestOk: z.boolean(),
  decision: AgentDecisionView.nullable(),
});
export type AgentProposalItem = z.infer<typeof AgentProposalItem>;

export const AgentProposalsView = z.strictObject({
  enrolled: z.boolean(),
  /** The last list succeeded: false means the verifier did not answer, and nothing is approved. */
  reachable: z.boolean(),
  error: z.string().nullable(),
  checkedAt: z.number().nullable(),
  kill: KillStateView,
  items: z.array(AgentProposalItem),
});
export type AgentProposalsView = z.infer<typeof AgentProposalsView>;

/**
 * The owner's decision on one agent proposal: approve (signed by the background; `wa`, her assertion
 * over the challenge ui-bg:presence-challenge gave, where the proposal asks for presence), or reject with a reason.
 */
export const AgentProposalDecideInput = z.union([
  z.strictObject({ id: ProposalId, approve: z.literal(true), wa: WebAuthnAssertion.optional() }),
  z.strictObject({ id: ProposalId, reject: z.strictObject({ reason: z.string().min(1).max(PROPOSAL_LIMITS.reason) }) }),
]);
export type AgentProposalDecideInput = z.infer<typeof AgentProposalDecideInput>;

/** What policy bots approved in the last 24 hours for this user's agents and own held actions (the verifier's list), for the popup. */
export const BotApprovalsView = z.strictObject({
  enrolled: z.boolean(),
  /** The verifier answered: false means the list is not known (said so, never shown as empty). */
  reachable: z.boolean(),
  error: z.string().nullable(),
  approvals: z.array(BotApprovalRecord),
});
export type BotApprovalsView = z.infer<typeof BotApprovalsView>;
