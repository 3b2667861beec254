// Batch review in the popup: the offer ("Review N together") for each agent and scope with two or more
// held actions, and the review itself: one list with every item's diff, a checkbox each (all on), one
// "Approve selected"; then each row says approved, or left out and why. Every item is still signed on
// its own, over its own digest, by the background (ui-bg:approve-batch). Actions that ask for the
// owner's presence are never offered together: a note says they are approved one at a time. Extension
// page only.
import { useState } from 'react';
import { batchGroups, needsPresence } from '@/lib/extension/batch-review';
import type { BatchGroup } from '@/lib/extension/batch-review';
import type { PendingActionRow } from '@/lib/extension/db';
import { ask } from '@/lib/messaging/client';
import type { BatchItemResult } from '@/lib/messaging/contract';
import { ActionDiff } from './ActionDiff';
import { APPROVE_BLOCK_TEXT } from './approve-block';
import type { ApproveBlock } from './approve-block';
import { SiteAndRequest, TimeLeft } from './HeldActionFacts';
import { secondsLeft, useNow } from './review-clock';

/** "Review N together", one button per batch the held actions make (batchGroups); and why those that ask for presence are not among them. */
export function BatchOffers({ held, onReview }: { held: readonly PendingActionRow[]; onReview: (group: BatchGroup) => void }) {
  const groups = batchGroups(held);
  const alone = held.filter((a) => a.state === 'held' && needsPresence(a)).length;
  if (groups.length === 0 && alone < 2) return null;
  return (
    <div className="batch-offers">
      {alone >= 2 && (
        <p className="hint" role="note" aria-label="Not batched">
          {alone} held actions ask for your presence: each is approved on its own, with its own confirmation (fingerprint, PIN or security key), never in a batch.
        </p>
      )}
      {groups.map((g) => {
        const id = `batch-offer-${g.agent}-${g.scope}`;
        return (
          <p key={id} className="batch-offer">
            <span id={id}>
              {g.actions.length} held <span className="scope">{g.scope}</span> by <span className="agent">{g.agent}</span>
            </span>{' '}
            <button type="button" aria-describedby={id} onClick={() => onReview(g)}>
              Review {g.actions.length} together
            </button>
          </p>
        );
      })}
    </div>
  );
}

function outcomeText(result: BatchItemResult): string {
  return result.outcome === 'left_out' ? `Left out (${result.reason}): ${result.message}` : result.message;
}

/**
 * The batch as the popup showed it when the owner opened it (`group`, not re-read live): an item that
 * expires or is decided meanwhile stays in the list, and the background's answer says what became of it.
 */
export function BatchReview({ group, blocked, onClose }: { group: BatchGroup; blocked: ApproveBlock | null; onClose: () => void }) {
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set(group.actions.map((a) => a.id)));
  const [results, setResults] = useState<ReadonlyMap<string, BatchItemResult> | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const now = useNow();
  const chosen = group.actions.filter((a) => selected.has(a.id));
  const tooFew = chosen.length < 2;

  function toggle(id: string, on: boolean) {
    setSelected((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }

  async function approve() {
    setBusy(true);
    setError(null);
    try {
      // The digest of the record shown: the background signs an item only while its stored record is still this one.
      const answer = await ask('ui-bg:approve-batch', { items: chosen.map((a) => ({ id: a.id, digest: a.digest })) });
      setResults(new Map(answer.items.map((r) => [r.id, r])));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const done = results !== null;
  const approved = done ? [...results.values()].filter((r) => r.outcome !== 'left_out').length : 0;
  return (
    <section aria-label="Batch review" className="batch">
      <h2>
        {group.actions.length} × <span className="agent">{group.agent}</span> → <span className="scope">{group.scope}</span>
      </h2>
      <p className="hint">Each one is signed on its own, over exactly the request shown. Untick what you do not approve.</p>
      <ul aria-label="Batch items" className="actions">
        {group.actions.map((action, i) => {
          const result = results?.get(action.id);
          const left = secondsLeft(action.expiresAt, now);
          const boxId = `batch-pick-${action.id}`;
          return (
            <li key={action.id} aria-label={`${group.agent} ${group.scope} (${i + 1} of ${group.actions.length})`} className="action batch-item" data-outcome={result ? (result.outcome === 'left_out' ? result.reason : result.outcome) : undefined}>
              <label htmlFor={boxId} className="batch-pick">
                <input id={boxId} type="checkbox" checked={selected.has(action.id)} disabled={busy || done} onChange={(e) => toggle(action.id, e.target.checked)} />
                Approve this one ({i + 1} of {group.actions.length})
              </label>
              <dl>
                <SiteAndRequest action={action} />
                <TimeLeft seconds={left} />
              </dl>
              <ActionDiff diff={action.spec.diff} body={action.spec.request.body} contentType={action.spec.request.contentType} {...(action.contentField ? { contentField: action.contentField } : {})} />
              {done && (
                <p role="status" aria-label="Outcome" className={result?.outcome === 'left_out' ? 'batch-left-out' : 'ok'}>
                  {result ? outcomeText(result) : 'Not selected: still pending.'}
                </p>
              )}
            </li>
          );
        })}
      </ul>
      {done && (
        <p role="status" aria-label="Batch outcome">
          {approved} of {chosen.length} approved{approved < chosen.length ? `; ${chosen.length - approved} left out (see each)` : ''}.
        </p>
      )}
      <div className="decide">
        {!done && (
          <button type="button" className="primary" disabled={busy || tooFew || blocked !== null} aria-describedby={blocked || tooFew ? 'batch-off' : undefined} onClick={() => void approve()}>
            Approve selected ({chosen.length})
          </button>
        )}
        <button type="button" onClick={onClose} disabled={busy}>
          {done ? 'Done' : 'Cancel'}
        </button>
      </div>
      {!done && (blocked || tooFew) && (
        <p id="batch-off" className="approve-off">
          {blocked ? APPROVE_BLOCK_TEXT[blocked] : 'Select two or more to approve them together, or approve one on its own in the list.'}
        </p>
      )}
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
