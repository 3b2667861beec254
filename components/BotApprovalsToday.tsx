// The popup's "Approved by policy today": what policy bots approved in the last 24 hours for this
// user's agents and own held actions, from the verifier (asked when the popup opens) — the bot, the
// rule that allowed it, the agent, scope and site. Shown only when there is something, or a reason the
// list is not known. Extension page only.
import { useEffect, useState } from 'react';
import { ask } from '@/lib/messaging/client';
import type { BotApprovalsView } from '@/lib/messaging/contract';
import { reveal } from './ActionDiff';

function timeOf(seconds: number): string {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function BotApprovalsToday() {
  const [view, setView] = useState<BotApprovalsView | null>(null);
  useEffect(() => {
    ask('ui-bg:bot-approvals', {}).then(setView, () => setView(null));
  }, []);
  if (!view || !view.enrolled) return null;
  if (!view.reachable) {
    return (
      <section aria-label="Approved by policy today">
        <h2>Approved by policy today</h2>
        <p role="status">Not known now: {view.error ?? 'the verifier did not answer'}.</p>
      </section>
    );
  }
  if (view.approvals.length === 0) return null;
  return (
    <section aria-label="Approved by policy today">
      <h2>Approved by policy today</h2>
      <ul aria-label="Approved by policy today list">
        {view.approvals.map((a) => (
          <li key={`${a.traceId}-${a.at}`} aria-label={`${a.agent} ${a.scope} approved by policy ${a.bot}`}>
            <strong>approved by policy {reveal(a.bot)}</strong> (rule {reveal(a.rule)}): {reveal(a.agent)} → {reveal(a.scope)} on {reveal(a.site)} at {timeOf(a.at)}
          </li>
        ))}
      </ul>
    </section>
  );
}
