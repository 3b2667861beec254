// Enrollment form: verifier URL (fixed when the admin policy sets it), one-time code, device label, and
// the device's authenticator (a WebAuthn credential registered here, in the options page, over the
// device key's challenge) for approvals that need the person's presence; when the browser cannot make
// one, it says so and offers to enroll without. Extension page only (options).
import { useState } from 'react';
import type { FormEvent } from 'react';
import { ask } from '@/lib/messaging/client';
import type { EnrollInput } from '@/lib/messaging/contract';
import { registerCredential, webAuthnFailure } from '@/lib/presence-page/webauthn';

export const WITHOUT_AUTHENTICATOR_TEXT = 'Without an authenticator this device cannot approve actions that need your presence (access changes, say); to add one later, ask your admin for a new enrollment code and enroll again.';

export function EnrollmentForm({ managedVerifierUrl, onEnrolled }: { managedVerifierUrl: string | null; onEnrolled(): void }) {
  const [verifierUrl, setVerifierUrl] = useState(managedVerifierUrl ?? 'http://127.0.0.1:8787');
  const [code, setCode] = useState('');
  const [label, setLabel] = useState('My browser');
  const [withAuthenticator, setWithAuthenticator] = useState(true);
  const [message, setMessage] = useState<string | null>(null);
  // create() failed: why, and the offer to enroll without an authenticator.
  const [noAuthenticator, setNoAuthenticator] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function enroll(register: boolean) {
    setBusy(true);
    setMessage(null);
    setNoAuthenticator(null);
    try {
      const input: EnrollInput = { verifierUrl: managedVerifierUrl ?? verifierUrl, code, label };
      if (register) {
        const { challenge } = await ask('ui-bg:enrollment-challenge', {});
        try {
          const { credential, rpId } = await registerCredential({ challenge, label });
          input.credential = credential;
          input.rpId = rpId;
        } catch (error) {
          setNoAuthenticator(webAuthnFailure(error, 'register'));
          return;
        }
      }
      const result = await ask('ui-bg:enroll', input);
      setMessage(`Enrolled as ${result.userId}${register ? ', with this device\'s authenticator' : ', without an authenticator'}.`);
      onEnrolled();
    } catch (error) {
      setMessage(`Enrollment failed: ${(error as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void enroll(withAuthenticator);
  }

  return (
    <form onSubmit={submit} aria-labelledby="enroll-title">
      <h3 id="enroll-title">Enroll this browser</h3>
      <label>
        Verifier URL
        <input type="url" value={managedVerifierUrl ?? verifierUrl} onChange={(e) => setVerifierUrl(e.target.value)} readOnly={managedVerifierUrl !== null} required />
      </label>
      {managedVerifierUrl !== null && <p className="hint">Set by your administrator.</p>}
      <label>
        Enrollment code
        <input value={code} onChange={(e) => setCode(e.target.value)} required autoComplete="off" />
      </label>
      <label>
        Device label
        <input value={label} onChange={(e) => setLabel(e.target.value)} required />
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={withAuthenticator} onChange={(e) => setWithAuthenticator(e.target.checked)} />
        Register this device&apos;s authenticator (fingerprint, PIN or security key): needed for high-risk approvals
      </label>
      {!withAuthenticator && <p className="hint">{WITHOUT_AUTHENTICATOR_TEXT}</p>}
      <button type="submit" className="primary" disabled={busy}>
        Enroll
      </button>
      {noAuthenticator && (
        <div role="alert" aria-label="No authenticator">
          <p>{noAuthenticator} Nothing was enrolled yet.</p>
          <p>{WITHOUT_AUTHENTICATOR_TEXT}</p>
          <button type="button" disabled={busy} onClick={() => void enroll(false)}>
            Enroll without an authenticator
          </button>
        </div>
      )}
      {message && <p role="status">{message}</p>}
    </form>
  );
}
