// The popup's share of what policy decides beside the owner: her held actions that await more
// approvers (the two-person rule), each with its diff and how many it still needs, and what policy
// bots approved today. Extension page only.
import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useState } from 'react';
import { db } from '@/lib/extension/db';
import { BotApprovalsToday } from './BotApprovalsToday';
import { PendingAction } from './PendingAction';

export function PolicyApprovals({ owner }: { owner: string | null }) {
  // Live across contexts; the tick re-reads too, should a change notification be missed.
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, []);
  const awaiting = useLiveQuery(() => db().actions.where('state').equals('awaiting').sortBy('createdAt'), [tick]);
  return (
    <>
      {awaiting && awaiting.length > 0 && (
        <section aria-label="Waiting for other approvers">
          <h2>Waiting for other approvers</h2>
          <ul aria-label="Waiting for other approvers list" className="actions">
            {awaiting.map((action) => (
              <PendingAction key={action.id} action={action} owner={owner} blocked={null} />
            ))}
          </ul>
        </section>
      )}
      <BotApprovalsToday />
    </>
  );
}
