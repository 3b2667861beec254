// Effective policy: admin (managed) values over local settings over defaults, joined with the
// organisation policy the verifier holds, which only adds protection; each value with its sources;
// site lists checked pattern by pattern and adapters one by one; every problem listed (which pattern,
// why) and the sites it names failed closed, never silently dropped. Runtime-neutral, pure.
import { AdminPolicy, DEFAULT_APPROVAL_TTL_SECONDS, OrganisationPolicy, parseAdapters, parseJsonStrict, parseMatchPattern, siteOfPattern } from '../protocol/index';
import type { AdapterProblem, SiteAdapter } from '../protocol/index';
import { registrationRefusal } from './match-patterns';
import type { PolicyView } from '../messaging/views';

export type { PolicyView } from '../messaging/views';

/** Where a value came from; `verifier` is the organisation policy on the verifier (its version is the view's `verifier`). */
export type PolicySource = 'managed' | 'verifier' | 'local' | 'default' | 'built-in';
/** Where an adapter came from: an admin's (managed, verifier or local policy) beats a built-in one. */
export type AdapterSource = 'managed' | 'verifier' | 'local' | 'built-in';
/** Where a problem was found. `browser`: Chrome itself refused part of the policy (a pattern it would not register). */
export type ProblemSource = 'managed' | 'verifier' | 'local' | 'browser';

export interface EffectivePolicy {
  verifierUrl: string | null;
  protectedSites: string[];
  blockedSites: string[];
  assistantAccounts: string[];
  approvalTtlSeconds: number;
  killSwitch: boolean;
  strictMode: boolean;
  adapters: SiteAdapter[];
  /** `off` (managed only): the organisation policy on the verifier is neither fetched nor applied. */
  verifierPolicy: 'on' | 'off';
}

export interface PolicyProblem {
  source: ProblemSource;
  field: string;
  message: string;
  adapterId?: string | null;
  /** The sites this problem makes Countersign fail closed on (its message names them too). */
  closes?: string[];
}

/** The organisation policy as held (the last good copy): its version and the document, checked here key by key. */
export interface OrganisationPolicyInput {
  version: number;
  updatedAt: number | null;
  policy: unknown;
}

const DEFAULTS: EffectivePolicy = {
  verifierUrl: null,
  protectedSites: [],
  blockedSites: [],
  assistantAccounts: [],
  approvalTtlSeconds: DEFAULT_APPROVAL_TTL_SECONDS,
  killSwitch: false,
  strictMode: false,
  adapters: [],
  verifierPolicy: 'on',
};

const KEYS = Object.keys(DEFAULTS) as Array<keyof EffectivePolicy>;
const SITE_LISTS = new Set(['protectedSites', 'blockedSites']);
const JOINED_LISTS = ['protectedSites', 'blockedSites', 'assistantAccounts'] as const;
const JOINED_SWITCHES = ['killSwitch', 'strictMode'] as const;
/** Adapters of the same id: managed beats verifier beats local beats built-in. */
const ADAPTER_RANK: Record<AdapterSource, number> = { managed: 0, verifier: 1, local: 2, 'built-in': 3 };
const SOURCE_ORDER: PolicySource[] = ['managed', 'verifier', 'local', 'default', 'built-in'];

type Layer = 'managed' | 'local' | 'verifier';
type LayerKeys = Partial<Record<keyof EffectivePolicy, unknown>>;

/**
 * Merges managed over local over defaults, then joins the organisation policy (`organisation`) in
 * so that it can only add protection: its site lists, assistant accounts and adapters are unions with
 * the others, its approval TTL counts only when shorter, its switches only turn on; it never sets
 * `verifierUrl`, and a managed `verifierPolicy: "off"` leaves it out. Each key is validated on its
 * own, and a site list pattern by pattern: one bad value is a problem, never a reason to drop the
 * rest. Adapters of the same id: managed replaces verifier replaces local replaces built-in. The
 * extension ships no built-in adapters; `builtin` keeps the place where they would rank.
 */
export function effectivePolicy(managed: unknown, local: unknown, builtin: SiteAdapter[] = [], organisation: OrganisationPolicyInput | null = null): PolicyView {
  const problems: PolicyProblem[] = [];
  const failClosed: string[] = [];
  const layers: Record<Layer, LayerKeys> = {
    managed: validKeys(managed, 'managed', problems, failClosed),
    local: validKeys(local, 'local', problems, failClosed),
    verifier: {},
  };
  if ('verifierPolicy' in layers.local) {
    delete layers.local.verifierPolicy;
    problems.push({ source: 'local', field: 'verifierPolicy', message: 'verifierPolicy is an administrator\'s (managed) setting: a local setting cannot turn the organisation policy off' });
  }
  const joined = organisation !== null && layers.managed.verifierPolicy !== 'off';
  if (joined) layers.verifier = validKeys(organisation.policy, 'verifier', problems, failClosed);

  const policy = { ...DEFAULTS } as Record<keyof EffectivePolicy, unknown>;
  const sources = Object.fromEntries(KEYS.map((k) => [k, ['default']])) as Record<keyof EffectivePolicy, PolicySource[]>;
  for (const source of ['local', 'managed'] as const) {
    for (const [key, value] of Object.entries(layers[source]) as Array<[keyof EffectivePolicy, unknown]>) {
      if (key === 'adapters') continue;
      policy[key] = value;
      sources[key] = [source];
    }
  }

  // The join: whatever the organisation policy says can only add to what managed and local set.
  const org = layers.verifier;
  const withVerifier = (key: keyof EffectivePolicy) => (sources[key][0] === 'default' ? ['verifier' as const] : [...sources[key], 'verifier' as const]);
  for (const key of JOINED_LISTS) {
    if (!Array.isArray(org[key])) continue;
    policy[key] = [...new Set([...(policy[key] as string[]), ...(org[key] as string[])])];
    sources[key] = withVerifier(key);
  }
  if (typeof org.approvalTtlSeconds === 'number') {
    const base = policy.approvalTtlSeconds as number;
    // The smallest TTL wins: a shorter window for approvals is more protection, never less.
    policy.approvalTtlSeconds = Math.min(base, org.approvalTtlSeconds);
    sources.approvalTtlSeconds = org.approvalTtlSeconds < base ? ['verifier'] : org.approvalTtlSeconds === base ? withVerifier('approvalTtlSeconds') : sources.approvalTtlSeconds;
  }
  for (const key of JOINED_SWITCHES) {
    if (typeof org[key] !== 'boolean') continue;
    const base = policy[key] as boolean;
    policy[key] = base || (org[key] as boolean);
    sources[key] = base === org[key] ? withVerifier(key) : org[key] ? ['verifier'] : sources[key];
  }

  const adapters = new Map<string, { adapter: SiteAdapter; source: AdapterSource }>(builtin.map((a) => [a.id, { adapter: a, source: 'built-in' }]));
  /** Layers whose adapters had problems: a source of the value even when none of theirs applies. */
  const problemLayers = new Set<PolicySource>();
  for (const source of ['local', 'verifier', 'managed'] as const) {
    const value = layers[source].adapters;
    if (value === undefined) continue;
    // Managed and local policy carry adapters as a JSON string (Chrome drops a bad nested value whole);
    // the verifier sends parsed JSON: both are checked here one adapter at a time.
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const parsed = parseAdapters(text);
    const raw = parseJsonStrict(text);
    const list = raw.ok && Array.isArray(raw.value) ? (raw.value as unknown[]) : [];
    const patternProblems = adapterPatternProblems(list, parsed.problems, source, failClosed);
    for (const p of parsed.problems) {
      // A bad match pattern is reported once, with the pattern and why (adapterPatternProblems).
      if (!patternProblems.some((q) => q.index === p.index && p.field.startsWith('match'))) problems.push(adapterProblem(source, p, adapterClosedSites(list[p.index])));
    }
    problems.push(...patternProblems.map((q) => q.problem));
    failClosed.push(...parsed.failClosed);
    for (const adapter of parsed.adapters) {
      // Deleted first so that, within a layer, adapters keep the document's order (the last tie-break).
      adapters.delete(adapter.id);
      adapters.set(adapter.id, { adapter, source });
    }
    if (parsed.problems.length) problemLayers.add(source);
  }
  const ranked = [...adapters.values()].sort((a, b) => ADAPTER_RANK[a.source] - ADAPTER_RANK[b.source]);
  policy.adapters = ranked.map((r) => r.adapter);
  const adapterLayers = SOURCE_ORDER.filter((s) => problemLayers.has(s) || ranked.some((r) => r.source === s));
  if (adapterLayers.length) sources.adapters = adapterLayers;
  const adapterSources = Object.fromEntries(ranked.map((r) => [r.adapter.id, r.source])) as Record<string, AdapterSource>;
  return {
    policy: policy as unknown as EffectivePolicy,
    sources,
    adapterSources,
    problems,
    failClosed: [...new Set(failClosed)],
    verifier: joined ? { version: organisation.version, updatedAt: organisation.updatedAt } : null,
  };
}

/** One source as the options page names it: `verifier (version 3)` for the organisation policy. */
export function sourceLabel(source: PolicySource | ProblemSource, verifierVersion: number | null | undefined): string {
  return source === 'verifier' ? `verifier (version ${verifierVersion ?? '?'})` : source;
}

/** A value's sources as the options page shows them, e.g. `managed + verifier (version 3)`. */
export function describeSources(sources: readonly PolicySource[], verifierVersion: number | null | undefined): string {
  return sources.map((s) => sourceLabel(s, verifierVersion)).join(' + ');
}

const CLOSED_PREFIX = 'Countersign fails closed on ';
const CLOSED_SUFFIX = ' (held, never released)';

/**
 * How a problem's message ends: the sites it fails closed (`Countersign fails closed on A, B (held,
 * never released)`), or that it names none. Match patterns hold no whitespace, so the list reads back.
 */
export function closedClause(sites: readonly string[]): string {
  return sites.length ? `${CLOSED_PREFIX}${sites.join(', ')}${CLOSED_SUFFIX}` : 'it names no site, so nothing fails closed for it';
}

/** The sites a problem fails closed. */
export function sitesClosedBy(problem: Pick<PolicyProblem, 'closes'>): string[] {
  return problem.closes ?? [];
}

/** What an admin reads about a pattern the extension cannot use: the pattern, why, and where it fails closed. */
function patternMessage(pattern: string, reason: string, sites: readonly string[]): string {
  return `${JSON.stringify(pattern)} is not a match pattern Countersign can use: ${reason}; ${closedClause(sites)}`;
}

/**
 * Every site an adapter that failed validation fails closed: its usable match patterns as written, and
 * the site each unusable one still names (what parseAdapters and adapterPatternProblems close).
 */
function adapterClosedSites(adapter: unknown): string[] {
  const match = adapter && typeof adapter === 'object' ? (adapter as { match?: unknown }).match : undefined;
  if (!Array.isArray(match)) return [];
  const sites = match.map((pattern: unknown) => {
    if (typeof pattern !== 'string') return null;
    return parseMatchPattern(pattern).ok ? pattern : siteOfPattern(pattern);
  });
  return [...new Set(sites.filter((s): s is string => s !== null))];
}

/**
 * The keys of one layer that can apply, each checked on its own. Managed and local policy are the
 * admin policy's keys; the organisation policy has its own (no `verifierUrl`, `verifierPolicy`, and
 * `adapters` as parsed JSON, checked adapter by adapter later).
 */
function validKeys(input: unknown, source: Layer, problems: PolicyProblem[], failClosed: string[]): LayerKeys {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    problems.push({ source, field: '(policy)', message: 'policy is not an object' });
    return {};
  }
  const shapes: Record<string, { safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }> =
    source === 'verifier' ? OrganisationPolicy.shape : AdminPolicy.shape;
  const out: LayerKeys = {};
  for (const [key, value] of Object.entries(input)) {
    if (source === 'verifier' && (key === 'verifierUrl' || key === 'verifierPolicy')) {
      problems.push({ source, field: key, message: `the organisation policy cannot set ${key}: ignored (only managed policy can)` });
      continue;
    }
    const shape = Object.hasOwn(shapes, key) ? shapes[key] : undefined;
    if (!shape) {
      problems.push({ source, field: key, message: 'unknown policy key' });
      continue;
    }
    if (SITE_LISTS.has(key) && Array.isArray(value)) {
      out[key as keyof EffectivePolicy] = siteList(key, value, source, problems, failClosed);
      continue;
    }
    if (source === 'verifier' && key === 'adapters') {
      if (Array.isArray(value)) out.adapters = value;
      else problems.push({ source, field: key, message: 'adapters must be an array of adapters' });
      continue;
    }
    const parsed = shape.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = [key, ...issue.path.map(String)].join('.');
      if ((JOINED_SWITCHES as readonly string[]).includes(key)) {
        // A switch an admin set but the browser cannot read (Firefox and the registry pass "true" and 1
        // through unchecked) is on: protection is never dropped because of how a value was written.
        out[key as keyof EffectivePolicy] = true;
        problems.push({ source, field, message: `${issue.message}; treated as on until it is true or false (fail closed)` });
      } else if (SITE_LISTS.has(key) && typeof value === 'string') {
        // One pattern where the list belongs: not guessed into a list, but the site it names fails closed.
        const site = siteOfPattern(value);
        problems.push({ source, field, message: `${issue.message} (a list of match patterns); ${closedClause(site ? [site] : [])}`, closes: site ? [site] : [] });
        if (site) failClosed.push(site);
      } else {
        problems.push({ source, field, message: issue.message });
      }
      continue;
    }
    out[key as keyof EffectivePolicy] = parsed.data;
  }
  return out;
}

/**
 * A site list, pattern by pattern: the usable patterns apply; each other one is a problem naming it,
 * and the site it still names fails closed. For protectedSites a pattern must also be one Chrome
 * registers content scripts for (http, https).
 */
function siteList(key: string, value: unknown[], source: Layer, problems: PolicyProblem[], failClosed: string[]): string[] {
  const good: string[] = [];
  value.forEach((pattern, i) => {
    const field = `${key}.${i}`;
    if (typeof pattern !== 'string') {
      problems.push({ source, field, message: 'a match pattern is a string' });
      return;
    }
    const parsed = parseMatchPattern(pattern);
    const reason = !parsed.ok ? parsed.reason : key === 'protectedSites' ? registrationRefusal(pattern) : null;
    if (reason === null) {
      good.push(pattern);
      return;
    }
    const site = siteOfPattern(pattern);
    problems.push({ source, field, message: patternMessage(pattern, reason, site ? [site] : []), closes: site ? [site] : [] });
    if (site) failClosed.push(site);
  });
  // The list's own limits (its length) are the schema's.
  const checked = AdminPolicy.shape[key as 'protectedSites' | 'blockedSites'].safeParse(good);
  if (!checked.success) {
    problems.push({ source, field: key, message: `${checked.error.issues[0]!.message}; ${closedClause(good)}`, closes: [...good] });
    failClosed.push(...good);
    return [];
  }
  return good;
}

/**
 * Every unparsable match pattern of the adapters that failed validation, with the pattern and why,
 * and every site its adapter fails closed; the sites they still name fail closed (parseAdapters
 * already closes their valid patterns).
 */
function adapterPatternProblems(list: unknown[], failed: AdapterProblem[], source: Layer, failClosed: string[]): Array<{ index: number; problem: PolicyProblem }> {
  const out: Array<{ index: number; problem: PolicyProblem }> = [];
  for (const index of new Set(failed.map((p) => p.index).filter((i) => i >= 0))) {
    const adapter = list[index] as { match?: unknown } | null;
    const match = adapter && typeof adapter === 'object' ? adapter.match : undefined;
    if (!Array.isArray(match)) continue;
    const closed = adapterClosedSites(adapter);
    match.forEach((pattern: unknown, j) => {
      if (typeof pattern !== 'string') return;
      const parsed = parseMatchPattern(pattern);
      if (parsed.ok) return;
      const site = siteOfPattern(pattern);
      if (site) failClosed.push(site);
      const adapterId = failed.find((p) => p.index === index)?.id ?? null;
      // This pattern's own site first: the sentence is about it; then the rest of its adapter's.
      const sites = [...new Set([...(site ? [site] : []), ...closed])];
      out.push({ index, problem: { source, field: `adapters[${index}].match.${j}`, message: patternMessage(pattern, parsed.reason, sites), adapterId, closes: sites } });
    });
  }
  return out;
}

function adapterProblem(source: Layer, p: AdapterProblem, closed: string[]): PolicyProblem {
  const where = p.index >= 0 ? `adapters[${p.index}]${p.field === '(adapter)' ? '' : `.${p.field}`}` : 'adapters';
  // A malformed adapters value names no adapter: none of that layer applies, and no site is known to close.
  const message = p.index >= 0 ? `${p.message}; ${closedClause(closed)}` : `${p.message}: no adapter from ${source} policy applies; ${closedClause([])}`;
  return { source, field: where, message, adapterId: p.id, closes: p.index >= 0 ? [...closed] : [] };
}
