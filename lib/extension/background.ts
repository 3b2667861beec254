// The background, joined: every feature's handlers in one registerHandlers call (which checks that
// the map is whole), then each feature's listeners and start-up. Background only; called from the
// entrypoint's main(), never at import.
import { agentProposalHandlers, startAgentProposals } from './agent-proposals-background';
import { deviceKey } from './device-key';
import { startAlarms } from './features/alarms';
import { approvalHandlers } from './features/approvals';
import { badgeHandlers, startBadges } from './features/badges';
import { holdHandlers, redeliverApproved, startHolds } from './features/holds';
import { logHandlers } from './features/log';
import { optionsHandlers } from './features/options';
import { policyHandlers, startPolicy } from './features/policy';
import { presenceHandlers } from './presence-handlers';
import { verifierHandlers } from './features/verifier';
import { registerHandlers } from './router';

export function registerBackground(): void {
  registerHandlers({
    ...optionsHandlers,
    ...logHandlers,
    ...policyHandlers,
    ...verifierHandlers,
    ...approvalHandlers,
    ...holdHandlers,
    ...badgeHandlers,
    ...agentProposalHandlers,
    ...presenceHandlers,
  });
  startBadges();
  startHolds();
  // Alarm listeners are registered at top level on every wake, before anything awaits.
  startAlarms();
  startAgentProposals();
  startPolicy();
  void deviceKey();
  redeliverApproved();
}
