// Enrollment form: verifier URL (fixed when the admin policy sets it), one-time code, device label.
// Extension page only.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { ask } from '@/lib/messaging/client';

export function EnrollmentForm({ managedVerifierUrl, onEnrolled }: { managedVerifierUrl: string | null; onEnrolled(): void }) {
  const [verifierUrl, setVerifierUrl] = useState(managedVerifierUrl ?? 'http://127.0.0.1:8787');
  const [code, setCode] = useState('');
  const [label, setLabel] = useState('My browser');
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const result = await ask('ui-bg:enroll', { verifierUrl: managedVerifierUrl ?? verifierUrl, code, label });
      setMessage(`Enrolled as ${result.userId}.`);
      onEnrolled();
    } catch (error) {
      setMessage(`Enrollment failed: ${(error as Error).message}`);
    } finally {
      setBusy(false);
    }
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
      <button type="submit" className="primary" disabled={busy}>
        Enroll
      </button>
      {message && <p role="status">{message}</p>}
    </form>
  );
}
