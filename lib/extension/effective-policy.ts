// Effective policy: admin (managed) values over local settings over defaults, each value with its
// source; site lists checked pattern by pattern and adapters one by one; every problem listed (which
// pattern, why) and the sites it names failed closed, never silently dropped. Runtime-neutral, pure.
import { AdminPolicy, DEFAULT_APPROVAL_TTL_SECONDS, parseAdapters, parseJsonStrict, parseMatchPattern, siteOfPattern } from '../protocol';
import type { AdapterProblem, SiteAdapter } from '../protocol';
import { registrationRefusal } from './match-patterns';

export type PolicySource = 'managed' | 'local' | 'default' | 'built-in';
/** Where an adapter came from: an admin's (managed or local policy) beats a built-in one. */
export type AdapterSource = 'managed' | 'local' | 'built-in';

export interface EffectivePolicy {
  verifierUrl: string | null;
  protectedSites: string[];
  blockedSites: string[];
  assistantAccounts: string[];
  approvalTtlSeconds: number;
  killSwitch: boolean;
  strictMode: boolean;
  adapters: SiteAdapter[];
}

export interface PolicyProblem {
  /** `browser`: Chrome itself refused part of the policy (a pattern it would not register). */
  source: 'managed' | 'local' | 'browser';
  field: string;
  message: string;
  adapterId?: string | null;
}

export interface PolicyView {
  policy: EffectivePolicy;
  sources: Record<keyof EffectivePolicy, PolicySource>;
  /** Each effective adapter's source, by id. */
  adapterSources: Record<string, AdapterSource>;
  problems: PolicyProblem[];
  /** Match patterns where an invalid part of the policy applies: fail closed there (hold, never release). */
  failClosed: string[];
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
};

const KEYS = Object.keys(DEFAULTS) as Array<keyof EffectivePolicy>;
const SITE_LISTS = new Set(['protectedSites', 'blockedSites']);
const ADAPTER_RANK: Record<AdapterSource, number> = { managed: 0, local: 1, 'built-in': 2 };

/**
 * Merges managed over local over defaults. Each key is validated on its own, and a site list pattern
 * by pattern: one bad value is a problem, never a reason to drop the rest. Adapters of the same id:
 * managed replaces local replaces built-in. The extension ships no built-in adapters; `builtin` keeps
 * the place where they would rank (below every admin's adapter).
 */
export function effectivePolicy(managed: unknown, local: unknown, builtin: SiteAdapter[] = []): PolicyView {
  const problems: PolicyProblem[] = [];
  const failClosed: string[] = [];
  const layers = { managed: validKeys(managed, 'managed', problems, failClosed), local: validKeys(local, 'local', problems, failClosed) };

  const policy = { ...DEFAULTS } as Record<keyof EffectivePolicy, unknown>;
  const sources = Object.fromEntries(KEYS.map((k) => [k, 'default'])) as Record<keyof EffectivePolicy, PolicySource>;
  for (const source of ['local', 'managed'] as const) {
    for (const [key, value] of Object.entries(layers[source])) {
      if (key === 'adapters') continue;
      policy[key as keyof EffectivePolicy] = value;
      sources[key as keyof EffectivePolicy] = source;
    }
  }

  const adapters = new Map<string, { adapter: SiteAdapter; source: AdapterSource }>(builtin.map((a) => [a.id, { adapter: a, source: 'built-in' }]));
  if (builtin.length) sources.adapters = 'built-in';
  for (const source of ['local', 'managed'] as const) {
    const text = layers[source].adapters;
    if (typeof text !== 'string') continue;
    const parsed = parseAdapters(text);
    const patternProblems = adapterPatternProblems(text, parsed.problems, source, failClosed);
    for (const p of parsed.problems) {
      // A bad match pattern is reported once, with the pattern and why (adapterPatternProblems).
      if (!patternProblems.some((q) => q.index === p.index && p.field.startsWith('match'))) problems.push(adapterProblem(source, p));
    }
    problems.push(...patternProblems.map((q) => q.problem));
    failClosed.push(...parsed.failClosed);
    for (const adapter of parsed.adapters) adapters.set(adapter.id, { adapter, source });
    if (parsed.adapters.length || parsed.problems.length) sources.adapters = source;
  }
  const ranked = [...adapters.values()].sort((a, b) => ADAPTER_RANK[a.source] - ADAPTER_RANK[b.source]);
  policy.adapters = ranked.map((r) => r.adapter);
  const adapterSources = Object.fromEntries(ranked.map((r) => [r.adapter.id, r.source])) as Record<string, AdapterSource>;
  return { policy: policy as unknown as EffectivePolicy, sources, adapterSources, problems, failClosed: [...new Set(failClosed)] };
}

/** What an admin reads about a pattern the extension cannot use: the pattern, why, and where it fails closed. */
function patternMessage(pattern: string, reason: string, site: string | null): string {
  const where = site ? `Countersign fails closed on ${site} (held, never released)` : 'it names no site, so nothing fails closed for it';
  return `${JSON.stringify(pattern)} is not a match pattern Countersign can use: ${reason}; ${where}`;
}

function validKeys(input: unknown, source: 'managed' | 'local', problems: PolicyProblem[], failClosed: string[]): Partial<AdminPolicy> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    problems.push({ source, field: '(policy)', message: 'policy is not an object' });
    return {};
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const shape = AdminPolicy.shape[key as keyof typeof AdminPolicy.shape];
    if (!shape) {
      problems.push({ source, field: key, message: 'unknown policy key' });
      continue;
    }
    if (SITE_LISTS.has(key) && Array.isArray(value)) {
      out[key] = siteList(key, value, source, problems, failClosed);
      continue;
    }
    const parsed = shape.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      problems.push({ source, field: [key, ...issue.path.map(String)].join('.'), message: issue.message });
      continue;
    }
    out[key] = parsed.data;
  }
  return out as Partial<AdminPolicy>;
}

/**
 * A site list, pattern by pattern: the usable patterns apply; each other one is a problem naming it,
 * and the site it still names fails closed. For protectedSites a pattern must also be one Chrome
 * registers content scripts for (http, https).
 */
function siteList(key: string, value: unknown[], source: 'managed' | 'local', problems: PolicyProblem[], failClosed: string[]): string[] {
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
    problems.push({ source, field, message: patternMessage(pattern, reason, site) });
    if (site) failClosed.push(site);
  });
  // The list's own limits (its length) are the schema's.
  const checked = AdminPolicy.shape[key as 'protectedSites' | 'blockedSites'].safeParse(good);
  if (!checked.success) {
    problems.push({ source, field: key, message: checked.error.issues[0]!.message });
    failClosed.push(...good);
    return [];
  }
  return good;
}

/**
 * Every unparsable match pattern of the adapters that failed validation, with the pattern and why;
 * the sites they still name fail closed (parseAdapters already closes their valid patterns).
 */
function adapterPatternProblems(text: string, failed: AdapterProblem[], source: 'managed' | 'local', failClosed: string[]): Array<{ index: number; problem: PolicyProblem }> {
  const out: Array<{ index: number; problem: PolicyProblem }> = [];
  const raw = parseJsonStrict(text);
  if (!raw.ok || !Array.isArray(raw.value)) return out;
  const list = raw.value as unknown[];
  for (const index of new Set(failed.map((p) => p.index).filter((i) => i >= 0))) {
    const adapter = list[index] as { match?: unknown } | null;
    const match = adapter && typeof adapter === 'object' ? adapter.match : undefined;
    if (!Array.isArray(match)) continue;
    match.forEach((pattern: unknown, j) => {
      if (typeof pattern !== 'string') return;
      const parsed = parseMatchPattern(pattern);
      if (parsed.ok) return;
      const site = siteOfPattern(pattern);
      if (site) failClosed.push(site);
      const adapterId = failed.find((p) => p.index === index)?.id ?? null;
      out.push({ index, problem: { source, field: `adapters[${index}].match.${j}`, message: patternMessage(pattern, parsed.reason, site), adapterId } });
    });
  }
  return out;
}

function adapterProblem(source: 'managed' | 'local', p: AdapterProblem): PolicyProblem {
  const where = p.index >= 0 ? `adapters[${p.index}]${p.field === '(adapter)' ? '' : `.${p.field}`}` : 'adapters';
  return { source, field: where, message: p.message, adapterId: p.id };
}
