// Admin policy (managed storage) and site adapters: schemas and the per-adapter validation of
// the `adapters` JSON string (DESIGN.md, "Admin policy" and "Site adapters"). Runtime-neutral.
import { z } from 'zod';
import { Identifier, LIMITS } from './action';
import { MAX_APPROVAL_TTL_SECONDS } from './approval-token';
import { parseMatchPattern } from './match-pattern';
import { parseJsonStrict } from './strict-json';

/** A WebExtension match pattern as Chrome reads it (ports included): `<all_urls>` or scheme://host[:port]/path. */
export const MatchPattern = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    const parsed = parseMatchPattern(value);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `not a match pattern (${parsed.reason}), e.g. https://forum.corp.example/*` });
  });
export type MatchPattern = z.infer<typeof MatchPattern>;

/** The admin policy as Chrome hands it over from managed storage; every key optional. */
export const AdminPolicy = z.strictObject({
  verifierUrl: z.url({ protocol: /^https?$/ }).max(LIMITS.url).optional(),
  protectedSites: z.array(MatchPattern).max(1000).optional(),
  blockedSites: z.array(MatchPattern).max(1000).optional(),
  assistantAccounts: z.array(Identifier).max(1000).optional(),
  approvalTtlSeconds: z.int().min(10).max(MAX_APPROVAL_TTL_SECONDS).optional(),
  killSwitch: z.boolean().optional(),
  strictMode: z.boolean().optional(),
  /** A JSON array of SiteAdapter, as a string: validated per adapter by the extension. */
  adapters: z.string().max(LIMITS.body).optional(),
  /** `off`: ignore the organisation policy the verifier holds (managed only). */
  verifierPolicy: z.enum(['on', 'off']).optional(),
});
export type AdminPolicy = z.infer<typeof AdminPolicy>;

/** A request URL pattern on the page's origin: `*` stands for one path segment. */
const UrlPattern = z.string().regex(/^\/[^\s#]*$/, 'a path pattern starting with /').max(1024);

export const AdapterAction = z.strictObject({
  scope: Identifier,
  /** `always`: every submission is held, a person's too (the tool's route is "always" server-side). */
  requires: z.enum(['agents', 'always']).optional(),
  request: z.strictObject({ method: z.string().regex(/^[A-Z]{1,16}$/), url: UrlPattern }),
  form: z.string().min(1).max(1024).optional(),
  content: z.string().min(1).max(256).optional(),
  before: z
    .union([z.strictObject({ get: UrlPattern }), z.strictObject({ form: z.string().min(1).max(1024) })])
    .optional(),
});
export type AdapterAction = z.infer<typeof AdapterAction>;

export const SiteAdapter = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, . _ -'),
  match: z.array(MatchPattern).min(1).max(100),
  actions: z.array(AdapterAction).max(100),
  /** The assistant's agent id on this site, when its marker does not name one. */
  agent: Identifier.optional(),
  assistant: z
    .strictObject({
      selectors: z.array(z.string().min(1).max(1024)).max(50).optional(),
      headers: z.array(z.string().regex(/^[A-Za-z0-9-]{1,64}$/)).max(50).optional(),
      fields: z.record(z.string().min(1).max(256), z.string().max(256)).optional(),
    })
    .optional(),
  posts: z
    .strictObject({
      container: z.string().min(1).max(1024),
      /** Left out where a post names no author (a wiki page): the badge goes at the end of the post. */
      author: z.string().min(1).max(1024).optional(),
      /** The post's text; it may match the container itself (a wiki page's whole parser output). */
      body: z.string().min(1).max(1024),
      /**
       * The attribute the tool renders a post's receipt in. Left out for a tool that cannot render
       * receipts: readers look each post's receipts up on the verifier by its text's `cdg`.
       */
      receipt: z.string().regex(/^data-[a-z0-9-]+$/, 'a data-* attribute name').optional(),
    })
    .optional(),
});
export type SiteAdapter = z.infer<typeof SiteAdapter>;

/** One adapter that failed validation: which one (`id` if it had one) and which field. */
export interface AdapterProblem {
  index: number;
  id: string | null;
  field: string;
  message: string;
}

export interface ParsedAdapters {
  adapters: SiteAdapter[];
  problems: AdapterProblem[];
  /** Match patterns named by adapters that failed: the extension fails closed there. */
  failClosed: string[];
}

/**
 * Parses the policy's `adapters` string. A malformed string yields one problem and no adapters; a
 * bad adapter among good ones is reported by id and field while the others still apply.
 */
export function parseAdapters(json: string): ParsedAdapters {
  const parsed = parseJsonStrict(json);
  if (!parsed.ok) return { adapters: [], problems: [{ index: -1, id: null, field: 'adapters', message: `adapters is ${parsed.reason}` }], failClosed: [] };
  if (!Array.isArray(parsed.value)) {
    return { adapters: [], problems: [{ index: -1, id: null, field: 'adapters', message: 'adapters must be a JSON array' }], failClosed: [] };
  }
  const adapters: SiteAdapter[] = [];
  const problems: AdapterProblem[] = [];
  const failClosed: string[] = [];
  const seen = new Set<string>();
  parsed.value.forEach((raw: unknown, index) => {
    const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : null;
    const result = SiteAdapter.safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      problems.push({ index, id, field: issue.path.join('.') || '(adapter)', message: issue.message });
      const match = (raw as { match?: unknown } | null)?.match;
      if (Array.isArray(match)) for (const m of match) if (MatchPattern.safeParse(m).success) failClosed.push(m as string);
      return;
    }
    if (seen.has(result.data.id)) {
      problems.push({ index, id, field: 'id', message: 'duplicate adapter id' });
      failClosed.push(...result.data.match);
      return;
    }
    seen.add(result.data.id);
    adapters.push(result.data);
  });
  return { adapters, problems, failClosed };
}

/**
 * The organisation's extension policy as the verifier holds it (DESIGN.md, "Organisation policy from
 * the verifier"): the managed keys that add protection, `adapters` as parsed JSON. It never carries
 * `verifierUrl` (a strict object: the key is refused by name). Adapters are checked one by one on the
 * way in too, so an admin learns of a bad one at `PUT`, not from a fleet of options pages.
 */
export const OrganisationPolicy = z.strictObject({
  protectedSites: AdminPolicy.shape.protectedSites,
  blockedSites: AdminPolicy.shape.blockedSites,
  assistantAccounts: AdminPolicy.shape.assistantAccounts,
  approvalTtlSeconds: AdminPolicy.shape.approvalTtlSeconds,
  killSwitch: AdminPolicy.shape.killSwitch,
  strictMode: AdminPolicy.shape.strictMode,
  adapters: z.array(SiteAdapter).max(500).optional(),
});
export type OrganisationPolicy = z.infer<typeof OrganisationPolicy>;

/** One version of it: `version` counts from 1 (0: none set yet, an empty policy). */
export const OrganisationPolicyVersion = z.strictObject({
  version: z.int().min(0),
  policy: OrganisationPolicy,
  updatedAt: z.int().min(0).nullable(),
});
export type OrganisationPolicyVersion = z.infer<typeof OrganisationPolicyVersion>;
