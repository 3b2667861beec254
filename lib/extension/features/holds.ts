// Held actions at the background's edge: proposals from content scripts (each one's approval plan
// asked then: a policy bot's approval released at once, a quorum noted) and the tab's report of the
// released request; releases (with every approval) and settlements sent to the tab; actions awaiting
// more approvers watched; the toolbar count; expiry; the tab events that end what a tab held; and
// re-delivery on wake (S-03). Background only.
import { browser } from 'wxt/browser';
import { ExtensionError } from '../../messaging/errors';
import { siteConfig } from '../../policy/site-adapters';
import { agentProposalCount } from '../agent-proposals-store';
import { db } from '../db';
import type { PendingActionRow } from '../db';
import { currentEnrollment } from '../enrollment';
import { reportedEvent } from '../held-action-states';
import { endAction, failActionsOfTab, pendingCount, proposeAction, sweepExpired } from '../held-actions';
import { applyPlan } from '../bot-approvals';
import { verifierStatus } from '../kill-switch';
import { killOf } from './verifier';
import { watchAwaiting } from '../quorum-holds';
import { currentPolicyView } from '../policy-store';
import { messenger } from '../router';
import type { Handlers } from './handlers';

/** The toolbar badge: how many actions wait for the owner, in-page holds and agent proposals alike. */
export async function updateBadge(): Promise<void> {
  const n = (await pendingCount()) + (await agentProposalCount());
  await browser.action.setBadgeText({ text: n ? String(n) : '' });
  await browser.action.setBadgeBackgroundColor({ color: '#b3261e' });
}

/**
 * What an approval needs next. Approved: the stored approvals (every one a quorum needed, else the one
 * token) delivered to the action's tab; a tab that is gone ends the action `failed`. Awaiting more
 * approvers: published for them and watched until it is approved, rejected or expired.
 */
export async function deliverRelease(row: PendingActionRow): Promise<void> {
  if (row.state === 'awaiting') {
    void watchQuorums();
    return;
  }
  if (row.state !== 'approved' || row.tabId === null || !row.token) return;
  try {
    await messenger.sendMessage('bg-cs:release', { actionId: row.id, tokens: row.tokens?.length ? row.tokens : [row.token] }, row.tabId);
  } catch {
    await endAction(row.id, 'fail', { reason: 'the tab that held it is gone' }, Date.now());
  }
}

export async function deliverSettle(row: PendingActionRow, outcome: 'rejected' | 'expired' | 'blocked' | 'failed', message: string): Promise<void> {
  if (row.tabId === null) return;
  await messenger.sendMessage('bg-cs:settle', { actionId: row.id, outcome, message }, row.tabId).catch(() => undefined);
}

/** Watches the actions awaiting more approvers (quorum-holds.ts): released to their tabs once approved, their tabs told otherwise. */
export function watchQuorums(): Promise<void> {
  return watchAwaiting({
    release: async (row) => {
      await deliverRelease(row);
      await updateBadge();
    },
    settle: async (row) => {
      await deliverSettle(row, row.state === 'rejected' ? 'rejected' : row.state === 'expired' ? 'expired' : 'failed', row.reason ?? row.state);
      await updateBadge();
    },
    // A worker waiting on the verifier is not idle: an extension call each round keeps it running.
    keepAlive: () => browser.runtime.getPlatformInfo(),
  });
}

/** Ends what expired (held past its TTL, approved past the approval's), tells its tab, updates the count. */
export async function sweep(): Promise<void> {
  const view = await currentPolicyView();
  for (const row of await sweepExpired(Date.now(), view.policy.approvalTtlSeconds)) {
    await deliverSettle(row, row.state === 'expired' ? 'expired' : 'failed', row.reason ?? row.state);
  }
  await updateBadge();
}

/** What the tab's report adds to the log event: its reason, or the tool's status. */
function reportDetail(event: ReturnType<typeof reportedEvent>, status: number | undefined, reason: string | undefined): Record<string, string | number> | null {
  if (event === 'fail') return { reason: reason ?? 'failed' };
  if (event === 'refuse') return { status: status!, reason: `the tool refused the released request (HTTP ${status}${reason ? `: ${reason}` : ''})` };
  return status !== undefined ? { status } : null;
}

export const holdHandlers = {
  'cs-bg:site-config': async (_input, sender) => siteConfig(await currentPolicyView(), sender.url!),
  'cs-bg:propose': async (input, sender) => {
    const view = await currentPolicyView();
    const enrollment = await currentEnrollment();
    let row = await proposeAction(input, { view, pageUrl: sender.url!, tabId: sender.tab!.id!, userId: enrollment?.userId ?? null, now: Date.now() });
    // The plan: a bot's approval releases it now (after this answer, which the bridge waits for); a
    // quorum is noted for the popup. No answer leaves it held as it is: approving asks again.
    // Under a kill switch (the admin's, or the verifier's as last seen) nothing is released, a bot's approval neither.
    if (row.state === 'held' && enrollment && !killOf(view, await verifierStatus()).engaged) {
      const planned = await applyPlan(row).catch(() => null);
      if (planned) row = planned;
      if (row.state === 'approved') setTimeout(() => void deliverRelease(row), 0);
    }
    await updateBadge();
    const owner = enrollment?.userId ?? null;
    const message =
      row.state === 'blocked'
        ? 'Assistant actions are blocked on this site by policy: refused.'
        : row.bot
          ? `Approved by policy ${row.bot.bot} (rule ${row.bot.rule}): sending it now.`
          : (row.quorum ?? 1) > 1
            ? `This ${row.spec.scope} needs ${row.quorum} approvers: ${owner ? `${owner}'s` : "its owner's"} signature in the Countersign popup, then another person's.`
            : `This ${row.spec.scope} waits for ${owner ? `${owner}'s` : "its owner's"} signature in the Countersign popup.${owner ? '' : ' This browser is not enrolled yet.'}`;
    if (row.state === 'held') {
      void browser.notifications.create(row.id, { type: 'basic', iconUrl: browser.runtime.getURL('/icon/128.png'), title: 'Countersign: action held', message: `${row.spec.agent} wants to ${row.spec.scope} on ${row.site}.` }).catch(() => undefined);
    }
    return { actionId: row.id, state: row.state, owner, expiresAt: row.expiresAt, message };
  },
  'cs-bg:release-result': async ({ actionId, outcome, status, reason }, sender) => {
    const row = await db().actions.get(actionId);
    if (!row || row.tabId !== sender.tab?.id) throw new ExtensionError('not_found', 'No such action in this tab.');
    // Only an approved action can be released or refused (held-action-states.ts); a failure ends either.
    const event = reportedEvent(outcome, status);
    const done = await endAction(actionId, event, reportDetail(event, status, reason), Date.now());
    await updateBadge();
    return { state: done?.state ?? row.state };
  },
} satisfies Handlers;

/** The tab events that end what a tab held. */
export function startHolds(): void {
  browser.tabs.onRemoved.addListener((tabId, info) => {
    // A window closing, the browser quitting among them, keeps what its tabs held: still pending
    // after a restart (S-06), ended by expiry. Before, whichever tabs Chrome reported closed before
    // it quit had their actions failed, and the rest stayed held.
    if (info.isWindowClosing) return;
    void failActionsOfTab(tabId, 'the tab was closed before release', Date.now()).then(updateBadge);
  });
  browser.tabs.onUpdated.addListener((tabId, change) => {
    // A reload or navigation takes the held request's page context with it.
    if (change.status === 'loading') void failActionsOfTab(tabId, 'the page navigated away before approval', Date.now(), 'navigate').then(updateBadge);
  });
}

/** A worker that died after signing and before delivery re-delivers the same token on wake (S-03); then what expired meanwhile ends. */
export function redeliverApproved(): void {
  void db()
    .actions.where('state')
    .equals('approved')
    .toArray()
    .then((rows) => Promise.all(rows.map(deliverRelease)))
    .then(sweep)
    .then(() => void watchQuorums());
}
