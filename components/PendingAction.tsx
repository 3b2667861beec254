// One held action in the popup: who wants to do what where, the diff, the time left, and the
// owner's decision; one the owner approved that awaits more approvers says how many, and waits; one
// whose approval asks for the owner's presence says so before the click. Keyboard alone can review and
// decide. Extension page only.
import { useState } from 'react';
import type { PendingActionRow } from '@/lib/extension/db';
import { ask } from '@/lib/messaging/client';
import { ActionDiff } from './ActionDiff';
import { APPROVE_BLOCK_TEXT } from './approve-block';
import type { ApproveBlock } from './approve-block';
import { OpenOptions } from './OpenOptions';
import { PRESENCE_NOTE, presenceFor } from './presence-approve';
import { SiteAndRequest, TimeLeft } from './HeldActionFacts';
import { secondsLeft, useNow } from './review-clock';

/** The words of an action awaiting more approvers: who approved, how many more, what policy requires. */
export function awaitingText(action: Pick<PendingActionRow, 'quorum' | 'approvers' | 'published'>): string {
  const quorum = action.quorum ?? 2;
  const approvers = action.approvers ?? [];
  const more = Math.max(1, quorum - approvers.length);
  const by = approvers.length ? `Approved by ${approvers.join(' and ')}; w` : 'W';
  const where = action.published ? '' : ' (not yet published for them: the verifier is asked again shortly)';
  return `${by}aiting for ${more} more approver${more === 1 ? '' : 's'} (policy requires ${quorum})${where}.`;
}

function useSecondsLeft(expiresAt: number): number {
  return secondsLeft(expiresAt, useNow());
}

/** `blocked`: what keeps every held action from being approved (approveBlock), named beside the button. */
export function PendingAction({ action, owner, blocked }: { action: PendingActionRow; owner: string | null; blocked: ApproveBlock | null }) {
  const left = useSecondsLeft(action.expiresAt);
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const name = `${action.spec.agent} ${action.spec.scope}`;
  const reasonId = `reason-${action.id}`;
  const blockId = `approve-off-${action.id}`;
  // An action whose time ran out cannot be approved whatever else holds; say that first.
  const block: ApproveBlock | null = left === 0 ? 'expired' : blocked;
  const awaiting = action.state === 'awaiting';
  const quorum = action.quorum ?? 1;

  async function decide(kind: 'approve' | 'reject') {
    setBusy(true);
    setMessage(null);
    try {
      if (kind === 'approve') {
        const wa = await presenceFor({ kind: 'held', id: action.id });
        await ask('ui-bg:approve', { actionId: action.id, ...(wa ? { wa } : {}) });
      }
      else await ask('ui-bg:reject', { actionId: action.id, ...(reason.trim() ? { reason: reason.trim() } : {}) });
    } catch (error) {
      setMessage((error as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <li aria-label={name} className="action">
      <h2>
        <span className="agent">{action.spec.agent}</span> → <span className="scope">{action.spec.scope}</span>
      </h2>
      <dl>
        <dt>Owner</dt>
        <dd>{owner ?? '(not enrolled)'}</dd>
        <SiteAndRequest action={action} />
        <dt>Why held</dt>
        <dd>{action.spec.signals.length ? action.spec.signals.join(', ') : 'this change always needs a signed review'}</dd>
        <TimeLeft seconds={left} />
      </dl>
      <ActionDiff diff={action.spec.diff} body={action.spec.request.body} contentType={action.spec.request.contentType} {...(action.contentField ? { contentField: action.contentField } : {})} />
      {awaiting && (
        <p role="status" aria-label="Waiting for approvers">
          {awaitingText(action)}
        </p>
      )}
      {!awaiting && quorum > 1 && (
        <p role="note" aria-label="Approvers" className="hint">
          Needs {quorum} approvers (policy requires {quorum}): your approval is published for the others, and the request waits for them.
        </p>
      )}
      {!awaiting && action.presence === 'uv' && (
        <p role="note" aria-label="Presence" className="presence-note">
          {PRESENCE_NOTE}
        </p>
      )}
      {!awaiting && (
      <div className="decide">
        <button type="button" className="primary" disabled={busy || block !== null} aria-describedby={block ? blockId : undefined} onClick={() => void decide('approve')}>
          Approve
        </button>
        <label htmlFor={reasonId} className="reason">
          Reason
          <input id={reasonId} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="optional" />
        </label>
        <button type="button" className="danger" disabled={busy} onClick={() => void decide('reject')}>
          Reject
        </button>
      </div>
      )}
      {!awaiting && block && (
        <p id={blockId} className="approve-off" data-testid="approve-off">
          {APPROVE_BLOCK_TEXT[block]}
          {block === 'not-enrolled' && (
            <>
              {' '}
              <OpenOptions />
            </>
          )}
        </p>
      )}
      {message && <p role="alert">{message}</p>}
    </li>
  );
}
