// The effective policy, where each value came from, and every problem found in it (where from, which
// field, adapter or pattern, why, and the sites it fails closed). Extension page only.
import { describeSources, sourceLabel } from '@/lib/policy/effective-policy';
import type { PolicyView } from '@/lib/policy/effective-policy';
import { verifierInUse } from '@/lib/policy/verifier-in-use';

function show(value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.map((v) => (typeof v === 'object' && v && 'id' in v ? String((v as { id: string }).id) : String(v))).join(', ') : '(none)';
  return value === null ? '(not set)' : String(value);
}

export function PolicyTable({ view, enrollment = null }: { view: PolicyView; enrollment?: { verifierUrl: string } | null }) {
  const rows = Object.entries(view.policy) as Array<[keyof PolicyView['policy'], unknown]>;
  const version = view.verifier?.version;
  // The verifier actually used: with no admin policy for it, the one this browser enrolled with.
  const verifier = verifierInUse(view, enrollment);
  // Each adapter with where it came from and what it matches: which one wins on a page depends on both.
  const adapters = view.policy.adapters.map((a) => {
    const source = view.adapterSources[a.id];
    return `${a.id} (${source ? sourceLabel(source, version) : describeSources(view.sources.adapters, version)}: ${a.match.join(' ')})`;
  });
  return (
    <section aria-labelledby="policy-title">
      <h2 id="policy-title">Effective policy</h2>
      {view.problems.length > 0 && (
        <div role="alert" aria-label="Policy problems">
          <p>The policy has problems; the extension fails closed on the sites they name{view.failClosed.length ? ` (${view.failClosed.join(', ')})` : ''}.</p>
          <ul>
            {view.problems.map((p, i) => (
              <li key={i} data-testid="policy-problem" data-source={p.source}>
                <strong>{sourceLabel(p.source, version)}</strong> {p.field}
                {p.adapterId ? ` (adapter ${p.adapterId})` : ''}: {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Setting</th>
            <th scope="col">Value</th>
            <th scope="col">Source</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([key, value]) => (
            <tr key={key}>
              <th scope="row">{key}</th>
              <td>{key === 'adapters' ? show(adapters) : key === 'verifierUrl' ? show(verifier.url) : show(value)}</td>
              <td data-testid={`policy-source-${key}`}>{key === 'verifierUrl' ? verifier.source : describeSources(view.sources[key], version)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
