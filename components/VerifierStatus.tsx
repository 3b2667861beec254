// The verifier this browser uses, where that came from, and what the last request to it found.
// Extension page only.
import { verifierInUseText, verifierStatusText } from '@/lib/policy/verifier-in-use';
import type { VerifierInUse, VerifierStatusView } from '@/lib/policy/verifier-in-use';

export function VerifierStatus({ inUse, status }: { inUse: VerifierInUse; status: VerifierStatusView }) {
  return (
    <>
      <p>
        Verifier in use: <span data-testid="verifier-in-use">{verifierInUseText(inUse)}</span>
      </p>
      <p>
        Verifier status: <span data-testid="verifier-status">{verifierStatusText(status)}</span>
      </p>
    </>
  );
}
