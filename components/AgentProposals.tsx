// The popup's agent proposals: what agents acting through APIs ask this user to approve, listed from
// the verifier (asked afresh on opening, then every few seconds while open), beside the in-page holds
// and reviewed alike; a verifier that does not answer is said, and then nothing is approved.
// Extension page only.
import { useCallback, useEffect, useState } from 'react';
import { ask } from '@/lib/messaging/client';
import type { AgentProposalsView } from '@/lib/messaging/contract';
import { AgentProposalReview } from './AgentProposalReview';
import { agentApproveBlock } from './agent-proposal-text';

const REFRESH_MS = 5000;

export function AgentProposals() {
  const [view, setView] = useState<AgentProposalsView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = useCallback(() => {
    ask('ui-bg:agent-proposals', {}).then(
      (v) => {
        setView(v);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  }, []);
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  const blocked = agentApproveBlock(view, error);
  // Nothing to say until there is a proposal, or a reason none can be listed: the holds stay the popup's first thing.
  const unreachable = view?.enrolled === true && !view.reachable;
  if (!error && !unreachable && (view === null || view.items.length === 0)) return null;
  return (
    <section aria-label="Agent proposals">
      <h2>Agent proposals</h2>
      {error && <p role="alert">{error}</p>}
      {unreachable && (
        <p role="alert" data-testid="agent-proposals-unreachable">
          {blocked}
        </p>
      )}
      {view && view.items.length > 0 ? (
        <ul aria-label="Agent proposals list" className="actions">
          {view.items.map((item) => (
            <AgentProposalReview key={item.proposal.id} item={item} blocked={blocked} onDecided={refresh} />
          ))}
        </ul>
      ) : (
        <p>No agent proposals.</p>
      )}
    </section>
  );
}
