// One agent proposal in the popup, reviewed as an in-page hold is: the agent, the scope, its summary
// (the agent's own words, as text only), the exact request, the diff (a config change's "before"
// read by the extension itself), the time left, whether approving asks for the owner's presence, and
// the owner's decision; what became of a decision is said plainly. Keyboard alone can review and
// decide. Extension page only.
import { useState } from 'react';
import { ActionDiff, reveal } from '@/components/ActionDiff';
import type { AgentProposalItem } from '@/lib/messaging/contract';
import { ask } from '@/lib/messaging/client';
import { decisionText, quorumText } from './agent-proposal-text';
import { PRESENCE_NOTE, presenceFor } from './presence-approve';
import { requestTarget, secondsLeft, useNow } from './review-clock';

function useSecondsLeft(expiresAtSeconds: number): number {
  return secondsLeft(expiresAtSeconds * 1000, useNow());
}

/** `blocked`: why no agent proposal can be approved now (named beside the button), or null. */
export function AgentProposalReview({ item, blocked, onDecided }: { item: AgentProposalItem; blocked: string | null; onDecided: () => void }) {
  const { proposal, review, decision } = item;
  const quorum = quorumText(proposal);
  const left = useSecondsLeft(proposal.expiresAt);
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const reasonId = `agent-reason-${proposal.id}`;
  const blockId = `agent-approve-off-${proposal.id}`;
  const decided = decision !== null && decision.state !== 'refused';
  const block = decided ? null : left === 0 ? 'Its time ran out: it can no longer be approved.' : !item.digestOk ? 'The verifier listed a digest that is not this request\'s: nothing can be signed for it.' : blocked;

  async function decide(kind: 'approve' | 'reject') {
    setBusy(true);
    setMessage(null);
    try {
      if (kind === 'approve') {
        const wa = await presenceFor({ kind: 'proposal', id: proposal.id });
        await ask('ui-bg:agent-proposals-decide', { id: proposal.id, approve: true, ...(wa ? { wa } : {}) });
      }
      else await ask('ui-bg:agent-proposals-decide', { id: proposal.id, reject: { reason: reason.trim() } });
    } catch (error) {
      setMessage((error as Error).message);
    } finally {
      setBusy(false);
      onDecided();
    }
  }

  return (
    <li aria-label={`${proposal.agent} ${proposal.scope}`} className="action" data-proposal={proposal.id}>
      <h2>
        <span className="agent">{reveal(proposal.agent)}</span> → <span className="scope">{reveal(proposal.scope)}</span>
      </h2>
      <dl>
        <dt>Site</dt>
        <dd>{review.site}</dd>
        <dt>Request</dt>
        <dd aria-label="Request">
          {proposal.request.method.toUpperCase()} {reveal(requestTarget(proposal.request.url, true))}
        </dd>
        <dt>Summary</dt>
        {/* The agent's words: text only, its invisible characters shown, never obeyed (E-06). */}
        <dd aria-label="Summary" className="summary">
          {reveal(proposal.summary)}
        </dd>
        <dt>Time left</dt>
        <dd>
          <span role="timer" aria-label="Time left">
            {left} s
          </span>
        </dd>
      </dl>
      {quorum && (
        <p role="note" aria-label="Approvers" className="hint">
          {reveal(quorum)}
        </p>
      )}
      {!decided && proposal.presence === 'uv' && (
        <p role="note" aria-label="Presence" className="presence-note">
          {PRESENCE_NOTE}
        </p>
      )}
      {review.beforeNote && (
        <p className="hint" aria-label="Before">
          {review.beforeNote}
        </p>
      )}
      <ActionDiff diff={review.diff} body={proposal.request.body} contentType={proposal.request.contentType} {...(review.contentField ? { contentField: review.contentField } : {})} />
      {!decided && (
        <div className="decide">
          <button type="button" className="primary" disabled={busy || block !== null} aria-describedby={block ? blockId : undefined} onClick={() => void decide('approve')}>
            Approve
          </button>
          <label htmlFor={reasonId} className="reason">
            Reason
            <input id={reasonId} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} placeholder="required to reject" />
          </label>
          <button type="button" className="danger" disabled={busy || !reason.trim()} onClick={() => void decide('reject')}>
            Reject
          </button>
        </div>
      )}
      {block && (
        <p id={blockId} className="approve-off" data-testid="approve-off">
          {block}
        </p>
      )}
      {decision && (
        <p role="status" aria-label="Decision">
          {decisionText(decision)}
        </p>
      )}
      {message && <p role="alert">{message}</p>}
    </li>
  );
}
