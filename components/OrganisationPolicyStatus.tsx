// Where the organisation policy on the verifier stands: which version applies, when it was fetched,
// and the last error (the held copy stays while the verifier is unreachable or answers badly).
// Extension page only.
import type { OrganisationPolicyView } from '@/lib/messaging/contract';

const at = (t: number) => new Date(t).toISOString();

function summary(org: OrganisationPolicyView, enrolled: boolean): string {
  if (!org.enabled) return 'off: your administrator\'s managed policy sets verifierPolicy to "off", so it is neither fetched nor applied.';
  if (org.version === null) return enrolled ? 'none held yet: it is fetched from the verifier every 30 seconds.' : 'fetched from the verifier once this browser is enrolled.';
  const set = org.updatedAt !== null ? `, set ${at(org.updatedAt)}` : '';
  const checked = org.checkedAt !== null ? `; last checked ${at(org.checkedAt)}` : '';
  return `version ${org.version} from ${org.verifierUrl ?? 'the verifier'}${set}; fetched ${at(org.fetchedAt!)}${checked}.`;
}

export function OrganisationPolicyStatus({ org, enrolled }: { org: OrganisationPolicyView; enrolled: boolean }) {
  return (
    <section aria-labelledby="organisation-policy-title">
      <h2 id="organisation-policy-title">Organisation policy</h2>
      <p className="hint">Set by your administrator on the verifier; it can only add protection to the managed and local policy.</p>
      <p>
        Organisation policy: <span data-testid="organisation-policy">{summary(org, enrolled)}</span>
      </p>
      {org.enabled && org.error && (
        <p data-testid="organisation-policy-error">
          Last fetch failed: {org.error}
          {org.version !== null ? ` (version ${org.version} still applies).` : '.'}
        </p>
      )}
    </section>
  );
}
