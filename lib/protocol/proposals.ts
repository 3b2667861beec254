// Agent proposals (DESIGN.md, "Agent proposals: agents that act through APIs"): the bodies of
// `POST /v1/proposals`, `GET /v1/proposals/{id}`, `GET /v1/proposals?state=pending` and
// `POST /v1/proposals/{id}/decision`, and their limits. Shared by the verifier, the extension and the
// agent client (lib/agent). Runtime-neutral.
import { z } from 'zod';
import { ActionRequest, Digest, Identifier, LIMITS, TraceId } from './action';
import { PresenceRequirement } from './presence';
import { ApprovalTokens, PolicyBotName, QUORUM_LIMITS } from './quorum';

export const PROPOSAL_LIMITS = {
  /** Pending proposals one approver may have waiting at once; the next is `429 rate_limited`. */
  pendingPerApprover: 20,
  /** New proposals one agent may make a minute; the next is `429 rate_limited`. */
  perAgentPerMinute: 5,
  /** The longest `?wait=` of a long poll, in seconds. */
  waitSeconds: 30,
  /** A summary, as the agent writes it for the person (shown as text, never as markup). */
  summary: 500,
  /** A reason for a rejection. */
  reason: 500,
  /** Proposals answered by one list call. */
  list: 100,
} as const;

export const ProposalId = z.string().regex(/^prp_[A-Za-z0-9_-]{22}$/, 'prp_ + 16 random bytes of base64url');
export type ProposalId = z.infer<typeof ProposalId>;

export const ProposalState = z.enum(['pending', 'approved', 'rejected', 'expired']);
export type ProposalState = z.infer<typeof ProposalState>;

/** Text a person reads: no control characters but line breaks and tabs. */
const PlainText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
    .refine((value) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/u.test(value), 'plain text (no control or bidirectional override characters)');

/** `POST /v1/proposals` (agent key): the exact request the agent will send, its route's scope, a summary for the person. */
export const ProposalCreateRequest = z.strictObject({
  request: ActionRequest,
  scope: Identifier,
  summary: PlainText(PROPOSAL_LIMITS.summary),
  /** The route's content field (form name, or JSON pointer), when the action is a post: the receipt binds its text. */
  contentField: z.string().min(1).max(256).optional(),
});
export type ProposalCreateRequest = z.infer<typeof ProposalCreateRequest>;

/** How many distinct people policy requires for an action (1 unless a quorum rule covers it). */
export const Quorum = z.int().min(1).max(QUORUM_LIMITS.maxApprovers);

export const ProposalCreated = z.strictObject({
  id: ProposalId,
  /** `approved` at once when a policy bot's rule covers it. */
  state: z.enum(['pending', 'approved']),
  /** The distinct approvers it needs. */
  quorum: Quorum.optional(),
  digest: Digest,
  traceId: TraceId,
  /** Unix seconds: the proposal expires then unless decided. */
  expiresAt: z.int().min(0),
});
export type ProposalCreated = z.infer<typeof ProposalCreated>;

/** `GET /v1/proposals/{id}?wait=s` (that agent's key): `token` only when approved, `reason` only when rejected. */
export const ProposalStatus = z.strictObject({
  id: ProposalId,
  state: ProposalState,
  /** The first approval (the only one unless policy required more). */
  token: z.string().min(1).max(LIMITS.token).optional(),
  /** Every approval, in order, when approved: the request carries them all (`Countersign-Approval: t1, t2`). */
  tokens: ApprovalTokens.optional(),
  /** Who approved, in order (a person's id, or `policy-bot:<name>`). */
  approvers: z.array(Identifier).max(QUORUM_LIMITS.maxApprovers).optional(),
  reason: z.string().max(PROPOSAL_LIMITS.reason).optional(),
});
export type ProposalStatus = z.infer<typeof ProposalStatus>;

/** One pending proposal as an approver's device lists it. */
export const PendingProposal = z.strictObject({
  id: ProposalId,
  agent: Identifier,
  scope: Identifier,
  summary: z.string().max(PROPOSAL_LIMITS.summary),
  request: ActionRequest,
  contentField: z.string().min(1).max(256).optional(),
  digest: Digest,
  traceId: TraceId,
  /** Unix seconds. */
  createdAt: z.int().min(0),
  expiresAt: z.int().min(0),
  /** The distinct approvers it needs, and those it has (oldest first). */
  quorum: Quorum,
  approvals: z.array(z.strictObject({ approver: Identifier, at: z.int().min(0) })).max(QUORUM_LIMITS.maxApprovers),
  /** A held action a person's extension published for a second approver: that person's id. */
  publishedBy: Identifier.optional(),
  /** `uv`: policy requires the approver's presence (a user-verified WebAuthn assertion in the token's `wa`). */
  presence: PresenceRequirement,
});
export type PendingProposal = z.infer<typeof PendingProposal>;

/** `GET /v1/proposals?state=pending` (device): the proposals this device's user may approve, oldest first. */
export const ProposalList = z.strictObject({ proposals: z.array(PendingProposal).max(PROPOSAL_LIMITS.list) });
export type ProposalList = z.infer<typeof ProposalList>;

/** `POST /v1/proposals/{id}/decision` (device): an approval token over the proposal's digest, or a rejection with a reason. */
export const ProposalDecision = z.union([
  z.strictObject({ approve: z.string().min(1).max(LIMITS.token) }),
  z.strictObject({ reject: z.strictObject({ reason: PlainText(PROPOSAL_LIMITS.reason) }) }),
]);
export type ProposalDecision = z.infer<typeof ProposalDecision>;

/** `pending` after an approval that does not yet meet the quorum. */
export const ProposalDecided = z.strictObject({ state: z.enum(['pending', 'approved', 'rejected']) });
export type ProposalDecided = z.infer<typeof ProposalDecided>;

/**
 * `POST /v1/proposals/held` (device): a held in-page action whose policy needs more than one
 * approver, published by the first approver's extension with that person's token, so the others see
 * it in their own popups. The trace id and agent are the token's.
 */
export const HeldActionPublication = z.strictObject({
  request: ActionRequest,
  scope: Identifier,
  summary: PlainText(PROPOSAL_LIMITS.summary),
  contentField: z.string().min(1).max(256).optional(),
  approve: z.string().min(1).max(LIMITS.token),
});
export type HeldActionPublication = z.infer<typeof HeldActionPublication>;

/**
 * `POST /v1/approval-plan` (device): what a held action needs, asked when it is held — the number of
 * distinct approvers policy requires, and, when a policy bot's rule covers it, that bot's token.
 */
export const ApprovalPlanRequest = z.strictObject({
  request: ActionRequest,
  scope: Identifier,
  /** The assistant (agent id) the action is held for. */
  agent: Identifier,
  traceId: TraceId,
  contentField: z.string().min(1).max(256).optional(),
});
export type ApprovalPlanRequest = z.infer<typeof ApprovalPlanRequest>;

export const BotApproval = z.strictObject({
  bot: PolicyBotName,
  /** The @id of the rule that allowed it. */
  rule: z.string().min(1).max(256),
  token: z.string().min(1).max(LIMITS.token),
});
export type BotApproval = z.infer<typeof BotApproval>;

export const ApprovalPlan = z.strictObject({ quorum: Quorum, presence: PresenceRequirement, bot: BotApproval.optional() });
export type ApprovalPlan = z.infer<typeof ApprovalPlan>;

/** One action a policy bot approved (no token), as `GET /v1/policy-bot/approvals` lists it. */
export const BotApprovalRecord = z.strictObject({
  bot: PolicyBotName,
  rule: z.string().min(1).max(256),
  agent: Identifier,
  scope: Identifier,
  site: z.string().min(1).max(LIMITS.url),
  digest: Digest,
  traceId: TraceId,
  /** Unix seconds. */
  at: z.int().min(0),
});
export type BotApprovalRecord = z.infer<typeof BotApprovalRecord>;

/** `GET /v1/policy-bot/approvals` (device): what the bots approved in the last 24 hours for this user's agents and own requests, newest first. */
export const BotApprovalList = z.strictObject({ approvals: z.array(BotApprovalRecord).max(PROPOSAL_LIMITS.list) });
export type BotApprovalList = z.infer<typeof BotApprovalList>;
