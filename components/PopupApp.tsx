// The popup: the owner's queue of held actions, from the background's own records (several of one
// agent and scope reviewable together), agents' proposals beside them, and why nothing can be signed
// when that is so. Extension page only.
import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useState } from 'react';
import { ask } from '@/lib/messaging/client';
import { db } from '@/lib/extension/db';
import type { ExtensionStateView } from '@/lib/messaging/contract';
import { verifierStatusText } from '@/lib/policy/verifier-in-use';
import { AgentProposals } from './AgentProposals';
import { BatchOffers, BatchReview } from './BatchReview';
import type { BatchGroup } from '@/lib/extension/batch-review';
import { PolicyApprovals } from './PolicyApprovals';
import { approveBlock } from './approve-block';
import { OpenOptions } from './OpenOptions';
import { PagePosts } from './PagePosts';
import { PendingAction } from './PendingAction';
import { confirmBanner } from './presence-approve';

export function PopupApp() {
  const [state, setState] = useState<ExtensionStateView | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A batch the owner opened ("Review N together"): shown as it was then, in place of the list.
  const [batch, setBatch] = useState<BatchGroup | null>(null);
  // Live across contexts; the one-second tick re-reads too, should a change notification be missed.
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, []);
  // Opened in a window of its own to confirm one approval with the person's presence (presence-approve.ts).
  const banner = confirmBanner(globalThis.location.search);
  const held = useLiveQuery(() => db().actions.where('state').equals('held').sortBy('createdAt'), [tick]);

  useEffect(() => {
    // Ask the verifier afresh first: the owner must see a kill switch engaged a moment ago.
    ask('ui-bg:check-kill-switch', {})
      .catch(() => undefined)
      .then(() => ask('ui-bg:get-state', {}))
      .then(setState, (e: Error) => setError(e.message));
  }, []);

  return (
    <main aria-labelledby="popup-title" className="popup">
      <h1 id="popup-title">Countersign</h1>
      {banner && (
        <p role="status" aria-label="Confirm presence" className="presence-note">
          {banner}
        </p>
      )}
      {error && <p role="alert">{error}</p>}
      {state?.kill.engaged && (
        <div role="alert" aria-label="Kill switch">
          <strong>Nothing can be approved or released:</strong> {state.kill.reasons.join(' ')}
        </div>
      )}
      {state && !state.enrollment && (
        <p role="alert">
          This browser is not enrolled, so it cannot sign approvals: enroll it in the options page. <OpenOptions />
        </p>
      )}
      {state?.enrollment && state.verifierStatus.checkedAt !== null && !state.verifierStatus.reachable && (
        // Approve stays on (it asks the verifier again), but the owner should know what the last request found.
        <p role="status" data-testid="verifier-status">
          Verifier status: {verifierStatusText(state.verifierStatus)}. Approving asks it again.
        </p>
      )}
      <section aria-label="Pending actions">
        {batch ? (
          <BatchReview group={batch} blocked={approveBlock(state, error)} onClose={() => setBatch(null)} />
        ) : held && held.length > 0 ? (
          <>
            <BatchOffers held={held} onReview={setBatch} />
            <ul aria-label="Pending actions list" className="actions">
              {held.map((action) => (
                <PendingAction key={action.id} action={action} owner={state?.enrollment?.userId ?? null} blocked={approveBlock(state, error)} />
              ))}
            </ul>
          </>
        ) : (
          <p>No pending actions.</p>
        )}
      </section>
      <PolicyApprovals owner={state?.enrollment?.userId ?? null} />
      <AgentProposals />
      <PagePosts />
      {state?.enrollment && (
        <p className="hint">
          Signing as {state.enrollment.userId} · key {state.enrollment.kid.slice(0, 8)}…
        </p>
      )}
    </main>
  );
}
