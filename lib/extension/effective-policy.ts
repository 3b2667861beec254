// Effective policy: admin (managed) values over local settings over defaults, each value with its
// source; adapters validated one by one; problems listed and failed sites closed. Runtime-neutral, pure.
import { AdminPolicy, DEFAULT_APPROVAL_TTL_SECONDS, parseAdapters } from '../protocol';
import type { AdapterProblem, SiteAdapter } from '../protocol';

export type PolicySource = 'managed' | 'local' | 'default' | 'built-in';

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
  source: 'managed' | 'local';
  field: string;
  message: string;
  adapterId?: string | null;
}

export interface PolicyView {
  policy: EffectivePolicy;
  sources: Record<keyof EffectivePolicy, PolicySource>;
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

/**
 * Merges managed over local over defaults. Each key is validated on its own: one bad key is a
 * problem, never a reason to drop the rest. Built-in adapters apply unless an adapter of the same
 * id comes from policy; managed adapters replace local ones of the same id.
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

  const adapters = new Map<string, SiteAdapter>(builtin.map((a) => [a.id, a]));
  if (builtin.length) sources.adapters = 'built-in';
  for (const source of ['local', 'managed'] as const) {
    const text = layers[source].adapters;
    if (typeof text !== 'string') continue;
    const parsed = parseAdapters(text);
    for (const p of parsed.problems) problems.push(adapterProblem(source, p));
    failClosed.push(...parsed.failClosed);
    for (const adapter of parsed.adapters) adapters.set(adapter.id, adapter);
    if (parsed.adapters.length || parsed.problems.length) sources.adapters = source;
  }
  policy.adapters = [...adapters.values()];
  return { policy: policy as unknown as EffectivePolicy, sources, problems, failClosed: [...new Set(failClosed)] };
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
    const parsed = shape.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      problems.push({ source, field: [key, ...issue.path.map(String)].join('.'), message: issue.message });
      // A site list that does not parse still names sites: keep its valid patterns closed.
      if ((key === 'protectedSites' || key === 'blockedSites') && Array.isArray(value)) {
        failClosed.push(...value.filter((v): v is string => typeof v === 'string' && AdminPolicy.shape.protectedSites.unwrap().element.safeParse(v).success));
      }
      continue;
    }
    out[key] = parsed.data;
  }
  return out as Partial<AdminPolicy>;
}

function adapterProblem(source: 'managed' | 'local', p: AdapterProblem): PolicyProblem {
  const where = p.index >= 0 ? `adapters[${p.index}]${p.field === '(adapter)' ? '' : `.${p.field}`}` : 'adapters';
  return { source, field: where, message: p.message, adapterId: p.id };
}
