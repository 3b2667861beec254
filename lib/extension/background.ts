// Everything the background owns, wired once: message handlers, alarms for log sync, the
// verifier's status and the organisation policy, and policy watching. Background only.
import { browser } from 'wxt/browser';
import { approveAction, rejectAction } from './approvals';
import { syncContentScripts, withRegistrationProblems } from './content-scripts';
import { endAction, failActionsOfTab, pendingCount, proposeAction, sweepExpired } from './held-actions';
import { db } from './db';
import { deviceKey } from './device-key';
import { currentEnrollment, enroll } from './enrollment';
import { killState, refreshVerifierStatus, verifierStatus } from './kill-switch';
import { exportLog, listLog } from './log';
import { syncLog, syncState } from './log-sync';
import { recordPolicyIfChanged } from './policy-log';
import { readPolicyView, saveLocalPolicy, watchPolicy } from './policy-store';
import { describeSources } from '../policy/effective-policy';
import { verifierInUse } from '../policy/verifier-in-use';
import type { PolicyView } from '../policy/effective-policy';
import { readOrganisationPolicy, refreshOrganisationPolicy } from './organisation-policy';
import { messenger, registerHandlers } from './router';
import { ExtensionError } from '../messaging/errors';
import { badgeMark, newPatternMark, setBadgeMark } from './badge-mark';
import { JwksCache, VerdictCache } from './post-verdicts';
import { adapterFor, siteConfig } from '../policy/site-adapters';
import type { OrganisationPolicyView, PageSummaryInput } from '../messaging/contract';
import type { PendingActionRow } from './db';

/** The effective policy, with whatever Chrome refused to register added (its sites fail closed). */
async function currentView(): Promise<PolicyView> {
  return withRegistrationProblems(await readPolicyView());
}

export const ALARMS = { sync: 'countersign-log-sync', status: 'countersign-verifier-status', expiry: 'countersign-expiry' } as const;

async function updateBadge(): Promise<void> {
  const n = await pendingCount();
  await browser.action.setBadgeText({ text: n ? String(n) : '' });
  await browser.action.setBadgeBackgroundColor({ color: '#b3261e' });
}

/** Delivers the stored token to the action's tab; a tab that is gone ends the action `failed`. */
async function deliverRelease(row: PendingActionRow): Promise<void> {
  if (row.tabId === null || !row.token) return;
  try {
    await messenger.sendMessage('bg-cs:release', { actionId: row.id, token: row.token }, row.tabId);
  } catch {
    await endAction(row.id, 'failed', { reason: 'the tab that held it is gone' }, Date.now());
  }
}

async function deliverSettle(row: PendingActionRow, outcome: 'rejected' | 'expired' | 'blocked' | 'failed', message: string): Promise<void> {
  if (row.tabId === null) return;
  await messenger.sendMessage('bg-cs:settle', { actionId: row.id, outcome, message }, row.tabId).catch(() => undefined);
}

async function sweep(): Promise<void> {
  const view = await currentView();
  for (const row of await sweepExpired(Date.now(), view.policy.approvalTtlSeconds)) {
    await deliverSettle(row, row.state === 'expired' ? 'expired' : 'failed', row.reason ?? row.state);
  }
  await updateBadge();
}

/** The verifier in use, as the options page names it too (verifierInUse): managed policy, else enrollment. */
async function verifierUrl(view?: PolicyView): Promise<string | null> {
  return verifierInUse(view ?? (await currentView()), await currentEnrollment()).url;
}

/** The kill state, its policy reason naming where the policy's switch came from. */
function killOf(view: PolicyView, status: Awaited<ReturnType<typeof verifierStatus>>) {
  return killState(view.policy, status, describeSources(view.sources.killSwitch, view.verifier?.version));
}

async function gates() {
  const view = await currentView();
  const status = await refreshVerifierStatus(await verifierUrl(view));
  return { view, status, kill: killOf(view, status) };
}

/**
 * Content-script registration and the policy log follow the effective policy: on a managed or local
 * change (watchPolicy) and on a new organisation policy from the verifier alike.
 */
function notePolicy(): Promise<void> {
  return readPolicyView().then(async (view) => {
    await syncContentScripts(view).catch(() => undefined);
    await recordPolicyIfChanged(withRegistrationProblems(view));
  });
}

/**
 * Asks the enrolled verifier for the organisation policy (unless a managed `verifierPolicy: "off"`
 * says not to) and, when the held copy changed, applies it as any policy change.
 */
async function refreshOrganisation(): Promise<OrganisationPolicyView> {
  const enabled = (await readPolicyView()).policy.verifierPolicy !== 'off';
  const { changed } = await refreshOrganisationPolicy({ enabled });
  if (changed) await notePolicy();
  return organisationView(enabled);
}

async function organisationView(enabled: boolean): Promise<OrganisationPolicyView> {
  const state = await readOrganisationPolicy();
  const copy = state.copy;
  return { enabled, version: copy?.version ?? null, verifierUrl: copy?.verifierUrl ?? null, updatedAt: copy?.updatedAt ?? null, fetchedAt: copy?.fetchedAt ?? null, checkedAt: state.checkedAt, error: state.error };
}

/** The verifier's receipt keys, shared by every page's badge checks (refreshed on an unknown kid). */
let issuerUrl: string | null = null;
const jwks = new JwksCache(() => issuerUrl);
const verdicts = new VerdictCache();
/** Each tab's posts and verdicts, for the popup; in memory only (a page re-reports on change). */
const pagePosts = new Map<number, PageSummaryInput & { url: string | null }>();

export function registerBackground(): void {
  registerHandlers({
    'ui-bg:get-state': async () => {
      // The popup opening is a good moment to end what expired since the last alarm.
      await sweep();
      const view = await currentView();
      const [enrollment, key, status, sync, pending, mark] = await Promise.all([currentEnrollment(), deviceKey(), verifierStatus(), syncState(), db().log.where('synced').equals(0).count(), badgeMark()]);
      return {
        enrollment: enrollment ? { verifierUrl: enrollment.verifierUrl, userId: enrollment.userId, deviceId: enrollment.deviceId, kid: enrollment.kid, label: enrollment.label, enrolledAt: enrollment.enrolledAt } : null,
        kid: key.kid,
        policy: view,
        kill: killOf(view, status),
        sync: { pending, lastSyncedAt: sync.lastSyncedAt, lastError: sync.lastError },
        verifierStatus: { url: status.url, reachable: status.reachable, policyVersion: status.policyVersion, checkedAt: status.checkedAt, error: status.error },
        organisationPolicy: await organisationView(view.policy.verifierPolicy !== 'off'),
        badgeMark: mark,
      };
    },
    'ui-bg:enroll': async (input) => {
      const view = await currentView();
      // A managed verifier URL wins: a user cannot point their signatures elsewhere.
      const row = await enroll({ ...input, verifierUrl: view.policy.verifierUrl ?? input.verifierUrl });
      await refreshVerifierStatus(row.verifierUrl);
      // The organisation policy (and the sites it protects) applies before the answer reaches the
      // options page; a verifier that does not answer it now is asked again at the next poll.
      await refreshOrganisation().catch(() => undefined);
      await syncLog({ force: true });
      return { userId: row.userId, deviceId: row.deviceId, kid: row.kid };
    },
    'ui-bg:save-settings': async ({ badgeMark: mark, newBadgePattern, ...policy }) => {
      if (newBadgePattern) await newPatternMark();
      else if (mark !== undefined) await setBadgeMark(mark);
      if (Object.keys(policy).length) await saveLocalPolicy(policy);
      return null;
    },
    'ui-bg:list-log': (filter) => listLog(filter),
    'ui-bg:export-log': (filter) => exportLog(filter),
    'ui-bg:sync-now': () => syncLog({ force: true }),
    'ui-bg:refresh-organisation-policy': () => refreshOrganisation(),
    'ui-bg:check-kill-switch': async () => (await gates()).kill,
    'ui-bg:approve': async ({ actionId }) => {
      const { view, status, kill } = await gates();
      const row = await approveAction(actionId, { policy: view.policy, kill, verifierReachable: status.reachable, failClosed: view.failClosed, now: Date.now() });
      await updateBadge();
      await deliverRelease(row);
      return { state: row.state };
    },
    'ui-bg:reject': async ({ actionId, reason }) => {
      const row = await rejectAction(actionId, reason, Date.now());
      await updateBadge();
      await deliverSettle(row, 'rejected', reason ? `Rejected by its owner: ${reason}` : 'Rejected by its owner.');
      return { state: row.state };
    },
    'cs-bg:site-config': async (_input, sender) => siteConfig(await currentView(), sender.url!),
    'cs-bg:propose': async (input, sender) => {
      const view = await currentView();
      const enrollment = await currentEnrollment();
      const row = await proposeAction(input, { view, pageUrl: sender.url!, tabId: sender.tab!.id!, userId: enrollment?.userId ?? null, now: Date.now() });
      await updateBadge();
      const owner = enrollment?.userId ?? null;
      const message =
        row.state === 'blocked'
          ? 'Assistant actions are blocked on this site by policy: refused.'
          : `This ${row.spec.scope} waits for ${owner ? `${owner}'s` : "its owner's"} signature in the Countersign popup.${owner ? '' : ' This browser is not enrolled yet.'}`;
      if (row.state === 'held') {
        void browser.notifications.create(row.id, { type: 'basic', iconUrl: browser.runtime.getURL('/icon/128.png'), title: 'Countersign: action held', message: `${row.spec.agent} wants to ${row.spec.scope} on ${row.site}.` }).catch(() => undefined);
      }
      return { actionId: row.id, state: row.state, owner, expiresAt: row.expiresAt, message };
    },
    'cs-bg:badge-config': async (_input, sender) => {
      const view = await currentView();
      const adapter = adapterFor(view, sender.url!);
      return { posts: adapter?.posts ?? null, markerSelectors: adapter?.assistant?.selectors ?? [], assistantAccounts: view.policy.assistantAccounts, mark: await badgeMark() };
    },
    'cs-bg:verify-posts': async ({ posts }) => {
      const view = await currentView();
      // The receipts' issuer is the verifier this browser uses: the managed one, else the one it enrolled with.
      issuerUrl = await verifierUrl();
      const ctx = { issuer: issuerUrl, assistantAccounts: view.policy.assistantAccounts, keys: jwks };
      return Promise.all(posts.map((post) => verdicts.get(post, ctx)));
    },
    'cs-bg:page-posts': async (summary, sender) => {
      pagePosts.set(sender.tab!.id!, { ...summary, url: sender.url ?? null });
      return null;
    },
    'ui-bg:page-posts': async () => {
      const [tab] = await browser.tabs.query({ active: true, lastFocusedWindow: true });
      return (tab?.id !== undefined ? pagePosts.get(tab.id) : undefined) ?? { posts: [], url: tab?.url ?? null };
    },
    'cs-bg:outcome': async ({ actionId, outcome, status, reason }, sender) => {
      const row = await db().actions.get(actionId);
      if (!row || row.tabId !== sender.tab?.id) throw new ExtensionError('not_found', 'No such action in this tab.');
      const now = Date.now();
      const wasApproved = (r: PendingActionRow) => r.state === 'approved';
      let done: PendingActionRow | null;
      if (outcome !== 'released') done = await endAction(actionId, 'failed', { reason: reason ?? 'failed' }, now);
      // A request the tool refused (4xx/5xx: its verifier down, the token refused) was sent but did not take
      // effect: it ends failed with the tool's status, so neither the popup nor the log calls it released.
      else if (status !== undefined && status >= 400) done = await endAction(actionId, 'failed', { status, reason: `the tool refused the released request (HTTP ${status})` }, now, wasApproved);
      else done = await endAction(actionId, 'released', status !== undefined ? { status } : null, now, wasApproved);
      await updateBadge();
      return { state: done?.state ?? row.state };
    },
  });

  browser.tabs.onRemoved.addListener((tabId) => pagePosts.delete(tabId));
  browser.tabs.onRemoved.addListener((tabId, info) => {
    // A window closing, the browser quitting among them, keeps what its tabs held: still pending
    // after a restart (S-06), ended by expiry. Before, whichever tabs Chrome reported closed before
    // it quit had their actions failed, and the rest stayed held.
    if (info.isWindowClosing) return;
    void failActionsOfTab(tabId, 'the tab was closed before release', Date.now()).then(updateBadge);
  });
  browser.tabs.onUpdated.addListener((tabId, change) => {
    // A reload or navigation takes the held request's page context with it.
    if (change.status === 'loading') void failActionsOfTab(tabId, 'the page navigated away before approval', Date.now(), ['held']).then(updateBadge);
  });

  // Alarms survive service-worker restarts; their listener is registered at top level on every wake.
  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === ALARMS.sync) void syncLog();
    if (alarm.name === ALARMS.status) {
      void verifierUrl().then((url) => refreshVerifierStatus(url));
      void refreshOrganisation().catch(() => undefined);
    }
    if (alarm.name === ALARMS.expiry) void sweep();
  });
  watchPolicy(() => void notePolicy());
  void notePolicy();
  void browser.alarms.create(ALARMS.sync, { periodInMinutes: 0.5 });
  void browser.alarms.create(ALARMS.status, { periodInMinutes: 0.5 });
  void browser.alarms.create(ALARMS.expiry, { periodInMinutes: 0.5 });
  void deviceKey();
  // A worker that died after signing and before delivery re-delivers the same token on wake (S-03).
  void db()
    .actions.where('state')
    .equals('approved')
    .toArray()
    .then((rows) => Promise.all(rows.map(deliverRelease)))
    .then(sweep);
}
