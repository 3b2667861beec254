// Every message between extension contexts: its payload schema and who may send it, in one map.
// Runtime-neutral declarations; handlers live with the modules that own the state.
import { z } from 'zod';
import { AuthorshipSignal, Diff, Identifier } from '../protocol/index';
import type { LogEvent, SiteAdapter } from '../protocol/index';
import type { PolicyView } from '../policy/effective-policy';
import type { BadgeMark } from '../shared/mark-pattern';
import type { Verdict } from '../extension/post-verdicts';
import type { SenderKind } from './senders';
import type { Reply } from './errors';

export type { Reply } from './errors';
import type { VerifierStatusView } from '../policy/verifier-in-use';

export const EnrollInput = z.strictObject({
  verifierUrl: z.url({ protocol: /^https?$/ }).max(2048),
  code: z.string().min(4).max(64),
  label: z.string().min(1).max(128),
});
export type EnrollInput = z.infer<typeof EnrollInput>;

export const LogFilterInput = z.strictObject({
  trace: z.string().max(64).optional(),
  agent: z.string().max(256).optional(),
  type: z.string().max(32).optional(),
});
export type LogFilterInput = z.infer<typeof LogFilterInput>;

export const ActionIdInput = z.strictObject({ actionId: z.string().min(1).max(64) });
export type ActionIdInput = z.infer<typeof ActionIdInput>;

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

export const EmptyInput = z.strictObject({}).optional();

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

export const OutcomeInput = z.strictObject({
  actionId: z.string().min(1).max(64),
  outcome: z.enum(['released', 'failed']),
  status: z.int().min(0).max(999).optional(),
  reason: z.string().max(500).optional(),
});
export type OutcomeInput = z.infer<typeof OutcomeInput>;

export const PostsInput = z.strictObject({
  posts: z
    .array(z.strictObject({ receipt: z.string().max(8192).nullable(), author: z.string().max(256), content: z.string().max(100_000), marked: z.boolean() }))
    .max(500),
});
export type PostsInput = z.infer<typeof PostsInput>;

export const PageSummaryInput = z.strictObject({
  posts: z.array(z.strictObject({ state: z.enum(['verified', 'unverified-ai', 'invalid']), author: z.string().max(256), agent: z.string().max(256).optional(), approver: z.string().max(256).optional(), excerpt: z.string().max(120) })).max(5000),
});
export type PageSummaryInput = z.infer<typeof PageSummaryInput>;

export const ReleaseInput = z.strictObject({ actionId: z.string(), token: z.string().max(8192) });
export const SettleInput = z.strictObject({ actionId: z.string(), outcome: z.enum(['rejected', 'expired', 'blocked', 'failed']), message: z.string().max(500) });


/** The message map: name → payload schema and the senders allowed (direction in the name: ui-bg, cs-bg). */
export const MESSAGES = {
  'ui-bg:get-state': { input: EmptyInput, senders: ['popup', 'options'] },
  'ui-bg:enroll': { input: EnrollInput, senders: ['options'] },
  'ui-bg:save-settings': { input: LocalSettingsInput, senders: ['options'] },
  'ui-bg:list-log': { input: LogFilterInput, senders: ['options'] },
  'ui-bg:export-log': { input: LogFilterInput, senders: ['options'] },
  'ui-bg:sync-now': { input: EmptyInput, senders: ['options'] },
  // The options page opening asks the verifier for the organisation policy now, not at the next poll.
  'ui-bg:refresh-organisation-policy': { input: EmptyInput, senders: ['options'] },
  'ui-bg:check-kill-switch': { input: EmptyInput, senders: ['popup', 'options'] },
  // Only the popup, where the owner reviews the stored record, can cause a signature.
  'ui-bg:approve': { input: ActionIdInput, senders: ['popup'] },
  'ui-bg:reject': { input: RejectInput, senders: ['popup'] },
  // Content scripts may propose and report, never approve.
  'cs-bg:site-config': { input: EmptyInput, senders: ['content-script'] },
  'cs-bg:propose': { input: ProposalInput, senders: ['content-script'] },
  'cs-bg:outcome': { input: OutcomeInput, senders: ['content-script'] },
  'cs-bg:badge-config': { input: EmptyInput, senders: ['content-script'] },
  'cs-bg:verify-posts': { input: PostsInput, senders: ['content-script'] },
  'cs-bg:page-posts': { input: PageSummaryInput, senders: ['content-script'] },
  'ui-bg:page-posts': { input: EmptyInput, senders: ['popup'] },
} as const satisfies Record<string, { input: z.ZodType; senders: readonly SenderKind[] }>;

export type MessageType = keyof typeof MESSAGES;

export interface ProtocolMap {
  'ui-bg:get-state'(data?: Record<string, never>): Reply<ExtensionStateView>;
  'ui-bg:enroll'(data: EnrollInput): Reply<{ userId: string; deviceId: string; kid: string }>;
  'ui-bg:save-settings'(data: LocalSettingsInput): Reply<null>;
  'ui-bg:list-log'(data: LogFilterInput): Reply<LogEvent[]>;
  'ui-bg:export-log'(data: LogFilterInput): Reply<string>;
  'ui-bg:sync-now'(data?: Record<string, never>): Reply<{ sent: number; pending: number; error?: string }>;
  'ui-bg:refresh-organisation-policy'(data?: Record<string, never>): Reply<OrganisationPolicyView>;
  'ui-bg:check-kill-switch'(data?: Record<string, never>): Reply<KillStateView>;
  'ui-bg:approve'(data: ActionIdInput): Reply<{ state: string }>;
  'ui-bg:reject'(data: RejectInput): Reply<{ state: string }>;
  'cs-bg:site-config'(data?: Record<string, never>): Reply<SiteConfig>;
  'cs-bg:propose'(data: ProposalInput): Reply<{ actionId: string; state: string; owner: string | null; expiresAt: number; message: string }>;
  'cs-bg:outcome'(data: OutcomeInput): Reply<{ state: string }>;
  'cs-bg:badge-config'(data?: Record<string, never>): Reply<BadgeConfig>;
  'cs-bg:verify-posts'(data: PostsInput): Reply<Verdict[]>;
  'cs-bg:page-posts'(data: PageSummaryInput): Reply<null>;
  'ui-bg:page-posts'(data?: Record<string, never>): Reply<PageSummaryInput & { url: string | null }>;
  // Background → content script (sent to one tab).
  'bg-cs:release'(data: z.infer<typeof ReleaseInput>): void;
  'bg-cs:settle'(data: z.infer<typeof SettleInput>): void;
}

/** What the badge script needs: where posts are, which authors are assistants, the secret mark. */
export interface BadgeConfig {
  posts: NonNullable<SiteAdapter['posts']> | null;
  markerSelectors: string[];
  assistantAccounts: string[];
  mark: BadgeMark;
}

/** What a content script on a protected site needs: its adapter (if any) and the policy switches. */
export interface SiteConfig {
  protected: boolean;
  adapter: SiteAdapter | null;
  strictMode: boolean;
}

export interface KillStateView {
  engaged: boolean;
  reasons: string[];
  verifier: { engaged: boolean; checkedAt: number | null; error: string | null };
}

export interface ExtensionStateView {
  enrollment: { verifierUrl: string; userId: string; deviceId: string; kid: string; label: string; enrolledAt: number } | null;
  kid: string;
  policy: PolicyView;
  kill: KillStateView;
  sync: { pending: number; lastSyncedAt: number | null; lastError: string | null };
  /** The last request to the verifier: which URL, what it answered or why it failed, and when. */
  verifierStatus: VerifierStatusView;
  organisationPolicy: OrganisationPolicyView;
  /** The secret mark genuine badges carry, for the options page to show. */
  badgeMark: BadgeMark;
}

/** The organisation policy's fetch state, for the options page (times in ms). */
export interface OrganisationPolicyView {
  /** False under a managed `verifierPolicy: "off"`: neither fetched nor applied. */
  enabled: boolean;
  /** The held copy's version, or null when none is held. */
  version: number | null;
  /** The verifier the held copy came from. */
  verifierUrl: string | null;
  /** When the admin set that version on the verifier. */
  updatedAt: number | null;
  /** When the verifier sent the held version. */
  fetchedAt: number | null;
  /** The last answer that confirmed the held copy (200 or 304). */
  checkedAt: number | null;
  /** Why the last fetch kept the held copy as it was (unreachable, refused, a bad answer), or null. */
  error: string | null;
}
