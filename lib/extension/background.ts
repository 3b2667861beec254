// Everything the background owns, wired once: message handlers, alarms for log sync and the
// verifier's status, and policy watching. Background only.
import { browser } from 'wxt/browser';
import { BUILTIN_ADAPTERS } from '../adapters/builtin';
import { approveAction, rejectAction } from './approvals';
import { db } from './db';
import { deviceKey } from './device-key';
import { currentEnrollment, enroll } from './enrollment';
import { killState, refreshVerifierStatus, verifierStatus } from './kill-switch';
import { exportLog, listLog } from './log';
import { syncLog, syncState } from './log-sync';
import { recordPolicyIfChanged } from './policy-log';
import { readPolicyView, saveLocalPolicy, watchPolicy } from './policy-store';
import { registerHandlers } from './router';

export const ALARMS = { sync: 'countersign-log-sync', status: 'countersign-verifier-status' } as const;

async function verifierUrl(): Promise<string | null> {
  const view = await readPolicyView(BUILTIN_ADAPTERS);
  return view.policy.verifierUrl ?? (await currentEnrollment())?.verifierUrl ?? null;
}

async function gates() {
  const view = await readPolicyView(BUILTIN_ADAPTERS);
  const status = await refreshVerifierStatus(view.policy.verifierUrl ?? (await currentEnrollment())?.verifierUrl ?? null);
  return { view, status, kill: killState(view.policy, status) };
}

export function registerBackground(): void {
  registerHandlers({
    'ui-bg:get-state': async () => {
      const view = await readPolicyView(BUILTIN_ADAPTERS);
      const [enrollment, key, status, sync, pending] = await Promise.all([currentEnrollment(), deviceKey(), verifierStatus(), syncState(), db().log.where('synced').equals(0).count()]);
      return {
        enrollment: enrollment ? { verifierUrl: enrollment.verifierUrl, userId: enrollment.userId, deviceId: enrollment.deviceId, kid: enrollment.kid, label: enrollment.label, enrolledAt: enrollment.enrolledAt } : null,
        kid: key.kid,
        policy: view,
        kill: killState(view.policy, status),
        sync: { pending, lastSyncedAt: sync.lastSyncedAt, lastError: sync.lastError },
        verifierStatus: { reachable: status.reachable, policyVersion: status.policyVersion, checkedAt: status.checkedAt },
      };
    },
    'ui-bg:enroll': async (input) => {
      const view = await readPolicyView(BUILTIN_ADAPTERS);
      // A managed verifier URL wins: a user cannot point their signatures elsewhere.
      const row = await enroll({ ...input, verifierUrl: view.policy.verifierUrl ?? input.verifierUrl });
      await refreshVerifierStatus(row.verifierUrl);
      await syncLog({ force: true });
      return { userId: row.userId, deviceId: row.deviceId, kid: row.kid };
    },
    'ui-bg:save-settings': async (input) => {
      await saveLocalPolicy(input);
      return null;
    },
    'ui-bg:list-log': (filter) => listLog(filter),
    'ui-bg:export-log': (filter) => exportLog(filter),
    'ui-bg:sync-now': () => syncLog({ force: true }),
    'ui-bg:check-kill-switch': async () => (await gates()).kill,
    'ui-bg:approve': async ({ actionId }) => {
      const { view, status, kill } = await gates();
      const row = await approveAction(actionId, { policy: view.policy, kill, verifierReachable: status.reachable, failClosed: view.failClosed, now: Date.now() });
      return { state: row.state };
    },
    'ui-bg:reject': async ({ actionId, reason }) => ({ state: (await rejectAction(actionId, reason, Date.now())).state }),
  });

  // Alarms survive service-worker restarts; their listener is registered at top level on every wake.
  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === ALARMS.sync) void syncLog();
    if (alarm.name === ALARMS.status) void verifierUrl().then((url) => refreshVerifierStatus(url));
  });
  const notePolicy = () => void readPolicyView(BUILTIN_ADAPTERS).then((view) => recordPolicyIfChanged(view));
  watchPolicy(notePolicy);
  notePolicy();
  void browser.alarms.create(ALARMS.sync, { periodInMinutes: 0.5 });
  void browser.alarms.create(ALARMS.status, { periodInMinutes: 0.5 });
  void deviceKey();
}
