// The options page: enrollment (with the device's authenticator, for approvals that need presence),
// the verifier's status, the organisation policy, the effective policy with its sources and problems,
// "test this page" against it, the badge mark and the log viewer. Extension page only.
import { useLiveQuery } from 'dexie-react-hooks';
import { useCallback, useEffect, useState } from 'react';
import { db } from '@/lib/extension/db';
import { ask } from '@/lib/messaging/client';
import type { ExtensionStateView } from '@/lib/messaging/contract';
import { verifierInUse } from '@/lib/policy/verifier-in-use';
import { BadgeMarkForm } from './BadgeMarkForm';
import { EnrollmentForm } from './EnrollmentForm';
import { LogViewer } from './LogViewer';
import { OrganisationPolicyStatus } from './OrganisationPolicyStatus';
import { PolicyTable } from './PolicyTable';
import { TestThisPage } from './TestThisPage';
import { VerifierStatus } from './VerifierStatus';

/** The enrolled device's authenticator: registered (its credential's first characters), or how to add one. */
export function presenceText(presence: { credentialId: string } | undefined): string {
  return presence
    ? `Presence: registered (credential ${presence.credentialId.slice(0, 8)}…).`
    : 'Presence: no authenticator registered, so this device cannot approve actions that need your presence. To register one, ask your admin for a new enrollment code and enroll again below.';
}

/** What enrolling again does, said before the person starts. */
export const ENROLL_AGAIN_TEXT =
  'Enrolling again (to add an authenticator, or because yours is lost) needs a new enrollment code from your admin. This browser enrolls a new device key, with the authenticator you register now; ask your admin to revoke the old device: its key and its credential are revoked with it.';

export function OptionsApp() {
  const [state, setState] = useState<ExtensionStateView | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The enrollment row as the background stored it: only it knows the credential (not in the state view).
  const enrolled = useLiveQuery(async () => (await db().enrollment.get('current')) ?? null, [state]);
  const [again, setAgain] = useState(false);
  const refresh = useCallback(() => {
    ask('ui-bg:get-state', {}).then(setState, (e: Error) => setError(e.message));
  }, []);
  useEffect(() => {
    refresh();
    // Opening the page asks the verifier for the organisation policy now; what it says shows when it answers.
    ask('ui-bg:refresh-organisation-policy', {}).then(refresh, refresh);
    // And for the verifier's status: what it shows was found at the time it names, and now again.
    ask('ui-bg:check-kill-switch', {}).then(refresh, refresh);
  }, [refresh]);

  return (
    <main aria-labelledby="options-title" className="options">
      <h1 id="options-title">Countersign settings</h1>
      {error && <p role="alert">{error}</p>}
      {state && (
        <>
          <section aria-labelledby="device-title">
            <h2 id="device-title">This device</h2>
            {state.enrollment && (
              <dl>
                <dt>Enrolled user</dt>
                <dd data-testid="enrolled-user">{state.enrollment.userId}</dd>
                <dt>Device</dt>
                <dd>{state.enrollment.label} ({state.enrollment.deviceId})</dd>
                <dt>Key id (kid)</dt>
                <dd data-testid="kid">{state.enrollment.kid}</dd>
                <dt>Enrolled with</dt>
                <dd>{state.enrollment.verifierUrl}</dd>
                <dt>Authenticator</dt>
                <dd data-testid="presence">{enrolled === undefined ? '…' : presenceText(enrolled?.presence)}</dd>
              </dl>
            )}
            {state.enrollment && !again && (
              <button type="button" onClick={() => setAgain(true)}>
                Enroll again…
              </button>
            )}
            {state.enrollment && again && (
              <>
                <p className="hint">{ENROLL_AGAIN_TEXT}</p>
                <EnrollmentForm
                  managedVerifierUrl={state.policy.sources.verifierUrl.includes('managed') ? state.policy.policy.verifierUrl : null}
                  onEnrolled={() => {
                    setAgain(false);
                    refresh();
                  }}
                />
              </>
            )}
            {!state.enrollment && (
              <EnrollmentForm managedVerifierUrl={state.policy.sources.verifierUrl.includes('managed') ? state.policy.policy.verifierUrl : null} onEnrolled={refresh} />
            )}
            <VerifierStatus inUse={verifierInUse(state.policy, state.enrollment)} status={state.verifierStatus} />
            {state.kill.engaged && (
              <div role="alert">
                <strong>Kill switch on:</strong> {state.kill.reasons.join(' ')}
              </div>
            )}
            <p>
              Log: {state.sync.pending} event(s) waiting to sync{state.sync.lastError ? ` (last error: ${state.sync.lastError})` : ''}.
            </p>
          </section>
          <BadgeMarkForm mark={state.badgeMark} onChanged={refresh} />
          <OrganisationPolicyStatus org={state.organisationPolicy} enrolled={state.enrollment !== null} />
          <PolicyTable view={state.policy} enrollment={state.enrollment} />
          <TestThisPage view={state.policy} kill={state.kill} />
          <LogViewer key={`${state.enrollment?.enrolledAt ?? 0}:${state.sync.pending}`} />
        </>
      )}
    </main>
  );
}
