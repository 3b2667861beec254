// "Test this page" on the options page: a URL in, whether the effective policy protects it, by which
// adapter from which layer with which actions, blocked, or failing closed and why (lib/policy/page-check.ts,
// computed here from the policy view the page already has). Extension page only.
import { useState } from 'react';
import type { PolicyView } from '@/lib/policy/effective-policy';
import { adapterLayerText, checkPage } from '@/lib/policy/page-check';
import type { KillInput, PageCheck, PageCheckResult } from '@/lib/policy/page-check';

/** The verdict in a few words, first thing read. */
export function verdictText(check: PageCheck): string {
  if (check.failClosed.length) return 'Fails closed: held, never released, until the policy is fixed';
  if (!check.protected) return 'Not protected';
  if (check.blockedBy.length) return `Protected${check.adapter ? ` by ${check.adapter.id}` : ''}; assistant actions blocked`;
  return check.adapter ? `Protected by ${check.adapter.id}` : 'Protected, no adapter (generic writes)';
}

/** What the check found, as the page shows it (static: the tests render it on its own). */
export function PageCheckAnswer({ result, verifierVersion }: { result: PageCheckResult; verifierVersion: number | null }) {
  if (!result.ok) return <p role="alert" aria-label="Page check">{result.message}</p>;
  const { check } = result;
  return (
    <div role="status" aria-label="Page check" data-testid="page-check">
      <p>
        <strong data-testid="page-check-verdict">{verdictText(check)}</strong> <code>{check.url}</code>
      </p>
      {check.adapter && (
        <p data-testid="page-check-adapter">
          Adapter <strong>{check.adapter.id}</strong>, from {adapterLayerText(check.adapter.source, verifierVersion)}
        </p>
      )}
      {check.adapter && check.adapter.actions.length > 0 && (
        <table aria-label="Actions held on this page">
          <thead>
            <tr>
              <th scope="col">Scope</th>
              <th scope="col">Request</th>
              <th scope="col">Held</th>
            </tr>
          </thead>
          <tbody>
            {check.adapter.actions.map((a, i) => (
              <tr key={i}>
                <th scope="row">{a.scope}</th>
                <td>
                  <code>
                    {a.method} {a.url}
                  </code>
                </td>
                <td>{a.requires === 'always' ? 'always (a person\'s request too)' : 'when an assistant sends it'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ul>
        {check.findings.map((f, i) => (
          <li key={i}>{f}</li>
        ))}
      </ul>
    </div>
  );
}

export function TestThisPage({ view, kill }: { view: PolicyView; kill?: KillInput }) {
  const [url, setUrl] = useState('');
  const [tested, setTested] = useState<string | null>(null);
  // Recomputed from the live view: a policy change shows in the answer without testing again.
  const result = tested === null ? null : checkPage(view, tested, kill);
  return (
    <section aria-labelledby="test-page-title">
      <h2 id="test-page-title">Test this page</h2>
      <p className="hint">Whether Countersign protects a page under the effective policy above, with which adapter and actions, and why not.</p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setTested(url);
        }}
      >
        <label>
          Test a URL <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://forum.corp.example/t/1" size={48} />
        </label>{' '}
        <button type="submit">Test</button>
      </form>
      {result && <PageCheckAnswer result={result} verifierVersion={view.verifier?.version ?? null} />}
    </section>
  );
}
