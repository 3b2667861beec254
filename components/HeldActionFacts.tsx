// The facts rows every review of a held action shows alike, inside its <dl>: the site and the exact
// request (its query is part of what is signed), and the time left. Extension page only.
import type { PendingActionRow } from '@/lib/extension/db';
import { requestTarget } from './review-clock';

export function SiteAndRequest({ action }: { action: Pick<PendingActionRow, 'site' | 'spec'> }) {
  return (
    <>
      <dt>Site</dt>
      <dd>{action.site}</dd>
      <dt>Request</dt>
      <dd>
        {action.spec.request.method} {requestTarget(action.spec.request.url)}
      </dd>
    </>
  );
}

export function TimeLeft({ seconds }: { seconds: number }) {
  return (
    <>
      <dt>Time left</dt>
      <dd>
        <span role="timer" aria-label="Time left">{seconds} s</span>
      </dd>
    </>
  );
}
