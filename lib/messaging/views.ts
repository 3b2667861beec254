// The values that cross messaging (what the background answers: the policy view, kill and verifier
// state, a site's config, badge verdicts), as schemas with same-named types: every context reads one
// declaration, and none imports a background module for a type. The schemas check shape only (the
// background made these values; inputs are where limits are checked). Runtime-neutral; content
// scripts and extension pages import the types only, so zod stays in the background.
import { z } from 'zod';
import { SiteAdapter } from '../protocol/index';

const PolicySource = z.enum(['managed', 'verifier', 'local', 'default', 'built-in']);
const AdapterSource = z.enum(['managed', 'verifier', 'local', 'built-in']);
const ProblemSource = z.enum(['managed', 'verifier', 'local', 'browser']);

/** The effective policy's values (EffectivePolicy in lib/policy/effective-policy.ts: the contract's tests keep the two equal). */
const EffectivePolicy = z.strictObject({
  verifierUrl: z.string().nullable(),
  protectedSites: z.array(z.string()),
  blockedSites: z.array(z.string()),
  assistantAccounts: z.array(z.string()),
  approvalTtlSeconds: z.number(),
  killSwitch: z.boolean(),
  strictMode: z.boolean(),
  adapters: z.array(SiteAdapter),
  /** `off` (managed only): the organisation policy on the verifier is neither fetched nor applied. */
  verifierPolicy: z.enum(['on', 'off']),
});
const POLICY_KEYS = EffectivePolicy.keyof();

const PolicyProblem = z.strictObject({
  source: ProblemSource,
  field: z.string(),
  message: z.string(),
  adapterId: z.string().nullable().optional(),
  /** The sites this problem makes Countersign fail closed on. */
  closes: z.array(z.string()).optional(),
});

export const PolicyView = z.strictObject({
  policy: EffectivePolicy,
  /**
   * Every layer the effective value came from, in precedence order (managed, verifier, local; default
   * or built-in when nothing else set it). A joined value lists each layer that contributed, e.g.
   * `['managed', 'verifier']` for protected sites from both.
   */
  sources: z.record(POLICY_KEYS, z.array(PolicySource)),
  /** Each effective adapter's source, by id. */
  adapterSources: z.record(z.string(), AdapterSource),
  problems: z.array(PolicyProblem),
  /** Match patterns where an invalid part of the policy applies: fail closed there (hold, never release). */
  failClosed: z.array(z.string()),
  /** The organisation policy joined in, or null: none held, or managed `verifierPolicy: "off"`. */
  verifier: z.strictObject({ version: z.number(), updatedAt: z.number().nullable() }).nullable(),
});
export type PolicyView = z.infer<typeof PolicyView>;

/** The secret mark genuine badges carry (BadgeMark in lib/shared/mark-pattern.ts). */
const BadgeMark = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('text'), text: z.string() }),
  z.strictObject({ kind: z.literal('pattern'), seed: z.string() }),
]);

export const KillStateView = z.strictObject({
  engaged: z.boolean(),
  reasons: z.array(z.string()),
  verifier: z.strictObject({ engaged: z.boolean(), checkedAt: z.number().nullable(), error: z.string().nullable() }),
});
export type KillStateView = z.infer<typeof KillStateView>;

/** The last request to the verifier (shown by lib/policy/verifier-in-use.ts). */
export const VerifierStatusView = z.strictObject({
  url: z.string().nullable(),
  reachable: z.boolean(),
  policyVersion: z.string().nullable(),
  checkedAt: z.number().nullable(),
  error: z.string().nullable(),
});
export type VerifierStatusView = z.infer<typeof VerifierStatusView>;

/** The organisation policy's fetch state, for the options page (times in ms). */
export const OrganisationPolicyView = z.strictObject({
  /** False under a managed `verifierPolicy: "off"`: neither fetched nor applied. */
  enabled: z.boolean(),
  /** The held copy's version, or null when none is held. */
  version: z.number().nullable(),
  /** The verifier the held copy came from. */
  verifierUrl: z.string().nullable(),
  /** When the admin set that version on the verifier. */
  updatedAt: z.number().nullable(),
  /** When the verifier sent the held version. */
  fetchedAt: z.number().nullable(),
  /** The last answer that confirmed the held copy (200 or 304). */
  checkedAt: z.number().nullable(),
  /** Why the last fetch kept the held copy as it was (unreachable, refused, a bad answer), or null. */
  error: z.string().nullable(),
});
export type OrganisationPolicyView = z.infer<typeof OrganisationPolicyView>;

export const ExtensionStateView = z.strictObject({
  enrollment: z
    .strictObject({ verifierUrl: z.string(), userId: z.string(), deviceId: z.string(), kid: z.string(), label: z.string(), enrolledAt: z.number() })
    .nullable(),
  kid: z.string(),
  policy: PolicyView,
  kill: KillStateView,
  sync: z.strictObject({ pending: z.number(), lastSyncedAt: z.number().nullable(), lastError: z.string().nullable() }),
  /** The last request to the verifier: which URL, what it answered or why it failed, and when. */
  verifierStatus: VerifierStatusView,
  organisationPolicy: OrganisationPolicyView,
  /** The secret mark genuine badges carry, for the options page to show. */
  badgeMark: BadgeMark,
});
export type ExtensionStateView = z.infer<typeof ExtensionStateView>;

/** What a content script on a protected site needs: its adapter (if any) and the policy switches. */
export const SiteConfig = z.strictObject({
  protected: z.boolean(),
  adapter: SiteAdapter.nullable(),
  strictMode: z.boolean(),
});
export type SiteConfig = z.infer<typeof SiteConfig>;

/** What the badge script needs: where posts are, which authors are assistants, the secret mark. */
export const BadgeConfig = z.strictObject({
  posts: SiteAdapter.shape.posts.unwrap().nullable(),
  markerSelectors: z.array(z.string()),
  assistantAccounts: z.array(z.string()),
  mark: BadgeMark,
});
export type BadgeConfig = z.infer<typeof BadgeConfig>;

export const BadgeState = z.enum(['verified', 'unverified-ai', 'invalid', 'none']);
export type BadgeState = z.infer<typeof BadgeState>;

/**
 * A post's provenance verdict, as the badge draws it. Up to 500 cross in one answer: plain members,
 * nothing that costs per check.
 */
export const Verdict = z.strictObject({
  state: BadgeState,
  agent: z.string().optional(),
  approver: z.string().optional(),
  /** Seconds since 1970: when the verifier allowed it. */
  time: z.number().optional(),
  traceId: z.string().optional(),
  /** What was checked, in order, for the details panel. */
  checks: z.array(z.string()),
  reason: z.string().optional(),
});
export type Verdict = z.infer<typeof Verdict>;
