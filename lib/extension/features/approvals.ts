// The owner's answer from the popup: approve (signed under every gate, then released to the tab) or
// reject (the tab told why). Background only.
import { approveAction, rejectAction } from '../approvals';
import type { Handlers } from './handlers';
import { deliverRelease, deliverSettle, updateBadge } from './holds';
import { gates } from './verifier';

export const approvalHandlers = {
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
} satisfies Handlers;
