// Every message between extension contexts, in one map: its payload (input) schema, the schema of
// what it answers (output), and who may send it. The protocol map the messenger is typed with is
// derived from it. Runtime-neutral declarations; handlers live with the modules that own the state.
// Content scripts and extension pages import its types only (zod stays in the background).
import { z } from 'zod';
import { AuthorshipSignal, CredentialId, Diff, Digest, Identifier, LogEvent, ProposalId, WebAuthnAssertion, WebAuthnRegistration } from '../protocol/index';
import { BadgeConfig, ExtensionStateView, KillStateView, OrganisationPolicyView, SiteConfig, Verdict } from './views';
import { TO_CONTENT, parseToContent } from './to-content';
import { AgentDecisionView, AgentProposalDecideInput, AgentProposalsView, BotApprovalsView } from './agent-proposals';
import type { ReleaseData, SettleData, ToContentType } from './to-content';
import type { SenderKind } from './senders';
import type { Reply } from './errors';

export type { Reply } from './errors';
export type { BadgeConfig, BadgeState, ExtensionStateView, KillStateView, OrganisationPolicyView, PolicyView, SiteConfig, VerifierStatusView, Verdict } from './views';
export type { ReleaseData, SettleData, ToContentType } from './to-content';
export type { AgentDecisionView, AgentProposalDecideInput, AgentProposalItem, AgentProposalsView, BotApprovalsView } from './agent-proposals';

/** An RP id as the options page passed it to WebAuthn create() (the extension's host). */
const RpId = z.string().min(1).max(256).regex(/^[A-Za-z0-9.-]+$/, 'an RP id is a host name');

export const EnrollInput = z
  .strictObject({
    verifierUrl: z.url({ protocol: /^https?$/ }).max(2048),
    code: z.string().min(4).max(64),
    label: z.string().min(1).max(128),
    /** The WebAuthn credential the options page registered over enrollmentChallenge(kid), and the RP id it used: both or neither. */
    credential: WebAuthnRegistration.optional(),
    rpId: RpId.optional(),
  })
  .refine((input) => (input.credential === undefined) === (input.rpId === undefined), { message: 'a credential comes with the RP id it was created for', path: ['rpId'] });
export type EnrollInput = z.infer<typeof EnrollInput>;

export const LogFilterInput = z.strictObject({
  trace: z.string().max(64).optional(),
  agent: z.string().max(256).optional(),
  type: z.string().max(32).optional(),
});
export type LogFilterInput = z.infer<typeof LogFilterInput>;

export const ActionIdInput = z.strictObject({ actionId: z.string().min(1).max(64) });
export type ActionIdInput = z.infer<typeof ActionIdInput>;

/** The owner's approval of a held action; `wa`: her assertion over the challenge ui-bg:presence-challenge gave, when it asks for presence. */
export const ApproveInput = z.strictObject({ actionId: z.string().min(1).max(64), wa: WebAuthnAssertion.optional() });
export type ApproveInput = z.infer<typeof ApproveInput>;

/** Which approval the popup is about to ask an assertion for: a held action, or an agent proposal (a published two-person hold among them). */
export const PresenceChallengeInput = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('held'), id: z.string().min(1).max(64) }),
  z.strictObject({ kind: z.literal('proposal'), id: ProposalId }),
]);
export type PresenceChallengeInput = z.infer<typeof PresenceChallengeInput>;

/**
 * What the approval needs: nothing more, or an assertion over `challenge` (the base64url string the
 * clientDataJSON will carry) with the device's credential, for the RP id it was created for.
 */
export const PresenceChallengeOutput = z.discriminatedUnion('presence', [
  z.strictObject({ presence: z.literal('none') }),
  z.strictObject({ presence: z.literal('uv'), challenge: z.string(), credentialId: CredentialId, rpId: z.string() }),
]);
export type PresenceChallengeOutput = z.infer<typeof PresenceChallengeOutput>;

/** The device key the options page is about to enroll, and the challenge its WebAuthn credential is registered over (enrollmentChallenge(kid)). */
export const EnrollmentChallengeOutput = z.strictObject({ kid: z.string(), challenge: z.string() });
export type EnrollmentChallengeOutput = z.infer<typeof EnrollmentChallengeOutput>;

export const RejectInput = z.strictObject({ actionId: z.string().min(1).max(64), reason: z.string().max(500).optional() });
export type RejectInput = z.infer<typeof RejectInput>;

export const LocalSettingsInput = z.strictObject({
  verifierUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** The person's own text mark ('' for a new random pattern). */
  badgeMark: z.string().max(16).optional(),
  /** Replace the mark with a new random pattern. */
  newBadgePattern: z.literal(true).optional(),
});
export type LocalSettingsInput = z.infer<typeof LocalSettingsInput>;

/** No payload: `{}`, or nothing at all. */
export const EmptyInput = z.strictObject({}).optional();
export type EmptyInput = z.infer<typeof EmptyInput>;

const HeldRequestInput = z.strictObject({
  method: z.string().regex(/^[A-Za-z]{1,16}$/),
  url: z.string().min(1).max(8192),
  contentType: z.string().max(1024).nullable(),
  body: z.string().max(1024 * 1024).nullable(),
});

/**
 * A content script's proposal: what the page tried to send. Site, tab, agent and which adapter action
 * (so the scope) it is are the background's to decide, from the browser and the request itself.
 */
export const ProposalInput = z.strictObject({
  kind: z.enum(['fetch', 'xhr', 'form']),
  request: HeldRequestInput,
  content: z.string().max(1024 * 1024).nullable(),
  signals: z.array(AuthorshipSignal).max(10),
  /** A marker header's value: the agent it names, believed only when the policy knows that agent id. */
  agentHint: Identifier.nullable(),
  diff: Diff.nullable(),
  /** Chosen by the content script per submission: a proposal re-sent after a lost answer is the same action. */
  proposalId: z.string().regex(/^[\w-]{8,64}$/).optional(),
});
export type ProposalInput = z.infer<typeof ProposalInput>;

export const ReleaseResultInput = z.strictObject({
  actionId: z.string().min(1).max(64),
  outcome: z.enum(['released', 'failed']),
  status: z.int().min(0).max(999).optional(),
  reason: z.string().max(500).optional(),
});
export type ReleaseResultInput = z.infer<typeof ReleaseResultInput>;

export const PostsInput = z.strictObject({
  posts: z
    .array(z.strictObject({ receipt: z.string().max(8192).nullable(), author: z.string().max(256), content: z.string().max(100_000), marked: z.boolean() }))
    .max(500),
});
export type PostsInput = z.infer<typeof PostsInput>;

/**
 * Posts with no receipt in the page, each by its text's digest (`cdg`, the protocol's contentDigest of
 * the post's rendered text): the background looks their receipts up on the verifier. The text itself
 * stays in the page; the site asked about is the sender's page, never named here.
 */
export const LookupInput = z.strictObject({
  posts: z.array(z.strictObject({ cdg: Digest, author: z.string().max(256), marked: z.boolean() })).max(500),
});
export type LookupInput = z.infer<typeof LookupInput>;

export const PageSummaryInput = z.strictObject({
  posts: z.array(z.strictObject({ state: z.enum(['verified', 'unverified-ai', 'invalid']), author: z.string().max(256), agent: z.string().max(256).optional(), approver: z.string().max(256).optional(), excerpt: z.string().max(120) })).max(5000),
});
export type PageSummaryInput = z.infer<typeof PageSummaryInput>;

// What the background answers, beside the payloads above; the larger views are in views.ts.

export const EnrollOutput = z.strictObject({ userId: z.string(), deviceId: z.string(), kid: z.string() });
export type EnrollOutput = z.infer<typeof EnrollOutput>;

export const SyncOutput = z.strictObject({ sent: z.number(), pending: z.number(), error: z.string().optional() });
export type SyncOutput = z.infer<typeof SyncOutput>;

/** An action's state after the message (approve, reject, outcome). */
export const ActionStateOutput = z.strictObject({ state: z.string() });
export type ActionStateOutput = z.infer<typeof ActionStateOutput>;

/** Batch review (DESIGN.md, "Policy bots, quorum, batch review"): how many held actions one step approves. */
export const BATCH_LIMITS = { min: 2, max: 20 } as const;

/**
 * The held actions the owner approves in one step, each with the digest of the record the popup showed:
 * every one is still signed on its own, over its own digest. One agent and one scope (the background
 * refuses a batch that mixes them).
 */
export const ApproveBatchInput = z.strictObject({
  items: z
    .array(z.strictObject({ id: z.string().min(1).max(64), digest: Digest }))
    .min(BATCH_LIMITS.min)
    .max(BATCH_LIMITS.max)
    .refine((items) => new Set(items.map((i) => i.id)).size === items.length, 'an action appears twice in the batch'),
});
export type ApproveBatchInput = z.infer<typeof ApproveBatchInput>;

/** Why an item of a batch was left out (nothing signed for it). */
export const BatchLeftOutReason = z.enum([
  'not_found',
  'other_agent_or_scope',
  'batch_refused',
  'already_decided',
  'changed',
  'expired',
  'site_blocked',
  'policy_invalid',
  'kill_switch_engaged',
  'verifier_unavailable',
  'not_enrolled',
  'presence_required',
  'failed',
]);
export type BatchLeftOutReason = z.infer<typeof BatchLeftOutReason>;

/** One item's answer, in the order asked: approved (released to its page), awaiting more approvers (a quorum), or left out and why. */
export const BatchItemResult = z.discriminatedUnion('outcome', [
  z.strictObject({ id: z.string(), outcome: z.enum(['approved', 'awaiting']), message: z.string() }),
  z.strictObject({ id: z.string(), outcome: z.literal('left_out'), reason: BatchLeftOutReason, message: z.string() }),
]);
export type BatchItemResult = z.infer<typeof BatchItemResult>;

export const ApproveBatchOutput = z.strictObject({ items: z.array(BatchItemResult).max(BATCH_LIMITS.max) });
export type ApproveBatchOutput = z.infer<typeof ApproveBatchOutput>;

export const ProposalOutput = z.strictObject({ actionId: z.string(), state: z.string(), owner: z.string().nullable(), expiresAt: z.number(), message: z.string() });
export type ProposalOutput = z.infer<typeof ProposalOutput>;

/** The active tab's posts as its badge script last reported them, and the tab's URL. */
export const PageSummaryOutput = PageSummaryInput.extend({ url: z.string().nullable() });
export type PageSummaryOutput = z.infer<typeof PageSummaryOutput>;

const NoValue = z.null();

/** The bg-cs payloads, checked with to-content.ts's shapes (as the content script checks them). */
const ReleaseInput = z.custom<ReleaseData>((data) => parseToContent('bg-cs:release', data) !== null, 'not a release');
const SettleInput = z.custom<SettleData>((data) => parseToContent('bg-cs:settle', data) !== null, 'not a settlement');
/** A content script answers a bg-cs message with nothing. */
const NoAnswer = z.void();

/**
 * The message map: name → payload schema, answer schema and the senders allowed. The direction is
 * in the name: ui-bg (extension pages to the background), cs-bg (content scripts to the background),
 * bg-cs (the background to one tab's content script, checked on arrival by acceptFromBackground).
 */
export const MESSAGES = {
  'ui-bg:get-state': { input: EmptyInput, output: ExtensionStateView, senders: ['popup', 'options'] },
  // The device key and the challenge the options page registers its WebAuthn credential over, before ui-bg:enroll.
  'ui-bg:enrollment-challenge': { input: EmptyInput, output: EnrollmentChallengeOutput, senders: ['options'] },
  'ui-bg:enroll': { input: EnrollInput, output: EnrollOutput, senders: ['options'] },
  'ui-bg:save-settings': { input: LocalSettingsInput, output: NoValue, senders: ['options'] },
  'ui-bg:list-log': { input: LogFilterInput, output: z.array(LogEvent), senders: ['options'] },
  'ui-bg:export-log': { input: LogFilterInput, output: z.string(), senders: ['options'] },
  'ui-bg:sync-now': { input: EmptyInput, output: SyncOutput, senders: ['options'] },
  // The options page opening asks the verifier for the organisation policy now, not at the next poll.
  'ui-bg:refresh-organisation-policy': { input: EmptyInput, output: OrganisationPolicyView, senders: ['options'] },
  'ui-bg:check-kill-switch': { input: EmptyInput, output: KillStateView, senders: ['popup', 'options'] },
  // Only the popup, where the owner reviews the stored record, can cause a signature.
  'ui-bg:approve': { input: ApproveInput, output: ActionStateOutput, senders: ['popup'] },
  // Before an approval: whether it needs the person's presence, and then the challenge her assertion
  // signs (asked and answered in the popup itself, never in a web page).
  'ui-bg:presence-challenge': { input: PresenceChallengeInput, output: PresenceChallengeOutput, senders: ['popup'] },
  'ui-bg:reject': { input: RejectInput, output: ActionStateOutput, senders: ['popup'] },
  // Several held actions of one agent and scope approved in one step (batch review), each its own token.
  'ui-bg:approve-batch': { input: ApproveBatchInput, output: ApproveBatchOutput, senders: ['popup'] },
  // Agent proposals (remote, from the verifier; not a content script's held action): the popup's
  // list, asked afresh when it opens, and the owner's decision, signed only in the background.
  'ui-bg:agent-proposals': { input: EmptyInput, output: AgentProposalsView, senders: ['popup'] },
  'ui-bg:agent-proposals-decide': { input: AgentProposalDecideInput, output: AgentDecisionView, senders: ['popup'] },
  // What policy bots approved today for this user (the verifier's list), asked when the popup opens.
  'ui-bg:bot-approvals': { input: EmptyInput, output: BotApprovalsView, senders: ['popup'] },
  // Content scripts may propose and report, never approve.
  'cs-bg:site-config': { input: EmptyInput, output: SiteConfig, senders: ['content-script'] },
  'cs-bg:propose': { input: ProposalInput, output: ProposalOutput, senders: ['content-script'] },
  'cs-bg:release-result': { input: ReleaseResultInput, output: ActionStateOutput, senders: ['content-script'] },
  'cs-bg:badge-config': { input: EmptyInput, output: BadgeConfig, senders: ['content-script'] },
  // Up to 500 verdicts an answer: Verdict is plain members only.
  'cs-bg:verify-posts': { input: PostsInput, output: z.array(Verdict), senders: ['content-script'] },
  // Receipts looked up on the verifier by text digest, for tools that cannot render them; one verdict a post.
  'cs-bg:lookup-receipts': { input: LookupInput, output: z.array(Verdict), senders: ['content-script'] },
  'cs-bg:page-posts': { input: PageSummaryInput, output: NoValue, senders: ['content-script'] },
  'ui-bg:page-posts': { input: EmptyInput, output: PageSummaryOutput, senders: ['popup'] },
  // Background → content script (sent to one tab); only the background, never an extension page.
  'bg-cs:release': { input: ReleaseInput, output: NoAnswer, senders: ['background'] },
  'bg-cs:settle': { input: SettleInput, output: NoAnswer, senders: ['background'] },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType; senders: readonly SenderKind[] }>;

export type MessageType = keyof typeof MESSAGES;
/** The messages the background answers; the bg-cs ones are the content scripts' to receive. */
export type ToBackgroundType = Exclude<MessageType, ToContentType>;

export const TO_BACKGROUND = (Object.keys(MESSAGES) as MessageType[]).filter((type): type is ToBackgroundType => !Object.hasOwn(TO_CONTENT, type));

/** What the sender passes (the payload schema's input) and what the receiver gets (its output). */
export type DataOf<T extends MessageType> = z.input<(typeof MESSAGES)[T]['input']>;
export type InputOf<T extends MessageType> = z.output<(typeof MESSAGES)[T]['input']>;
/** What the receiver answers (the answer schema's input) and what the sender gets back (its output). */
export type AnswerOf<T extends MessageType> = z.input<(typeof MESSAGES)[T]['output']>;
export type ValueOf<T extends MessageType> = z.output<(typeof MESSAGES)[T]['output']>;

type Answered<T extends MessageType> = T extends ToContentType ? ValueOf<T> : Reply<ValueOf<T>>;

/**
 * The messenger's protocol map, derived from MESSAGES: a payload that may be left out (the empty
 * ones) is an optional argument; the background answers a Reply, a content script nothing.
 */
export type ProtocolMap = {
  [T in MessageType]: undefined extends DataOf<T> ? (data?: DataOf<T>) => Answered<T> : (data: DataOf<T>) => Answered<T>;
};
