// The background's timers: log sync, the verifier's status with the organisation policy, expiry (and
// the watch of holds awaiting more approvers, started again after a worker restart), and the poll of
// agent proposals, every 30 s. Alarms survive service-worker restarts; their listener is registered on every wake.
// Background only.
import { browser } from 'wxt/browser';
import { pollAgentProposals } from '../agent-proposals-background';
import { syncLog } from '../log-sync';
import { sweep, watchQuorums } from './holds';
import { refreshOrganisation } from './policy';
import { refreshStatus } from './verifier';

export const ALARMS = { sync: 'countersign-log-sync', status: 'countersign-verifier-status', expiry: 'countersign-expiry', agentProposals: 'countersign-agent-proposals' } as const;

export function startAlarms(): void {
  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === ALARMS.sync) void syncLog();
    if (alarm.name === ALARMS.status) {
      void refreshStatus();
      void refreshOrganisation().catch(() => undefined);
    }
    if (alarm.name === ALARMS.expiry) {
      void sweep();
      void watchQuorums().catch(() => undefined);
    }
    if (alarm.name === ALARMS.agentProposals) void pollAgentProposals().catch(() => undefined);
  });
  void browser.alarms.create(ALARMS.sync, { periodInMinutes: 0.5 });
  void browser.alarms.create(ALARMS.status, { periodInMinutes: 0.5 });
  void browser.alarms.create(ALARMS.expiry, { periodInMinutes: 0.5 });
  void browser.alarms.create(ALARMS.agentProposals, { periodInMinutes: 0.5 });
}
