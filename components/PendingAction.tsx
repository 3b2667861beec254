// One held action in the popup: who wants to do what where, the diff, the time left, and the
// owner's decision. Keyboard alone can review and decide. Extension page only.
import { useEffect, useState } from 'react';
import type { PendingActionRow } from '@/lib/extension/db';
import { ask } from '@/lib/messaging/client';
import { ActionDiff } from './ActionDiff';
import { APPROVE_BLOCK_TEXT } from './approve-block';
import type { ApproveBlock } from './approve-block';
import { OpenOptions } from './OpenOptions';

function useSecondsLeft(expiresAt: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return Math.max(0, Math.ceil((expiresAt - now) / 1000));
}

function requestTarget(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
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

  async function decide(kind: 'approve' | 'reject') {
    setBusy(true);
    setMessage(null);
    try {
      if (kind === 'approve') await ask('ui-bg:approve', { actionId: action.id });
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
        <dt>Site</dt>
        <dd>{action.site}</dd>
        <dt>Request</dt>
        <dd>
          {/* The query is part of what is signed, so it is shown too. */}
          {action.spec.request.method} {requestTarget(action.spec.request.url)}
        </dd>
        <dt>Why held</dt>
        <dd>{action.spec.signals.length ? action.spec.signals.join(', ') : 'this change always needs a signed review'}</dd>
        <dt>Time left</dt>
        <dd>
          <span role="timer" aria-label="Time left">{left} s</span>
        </dd>
      </dl>
      <ActionDiff diff={action.spec.diff} body={action.spec.request.body} contentType={action.spec.request.contentType} {...(action.contentField ? { contentField: action.contentField } : {})} />
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
      {block && (
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
