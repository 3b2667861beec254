// The owner's answer from the popup: approve (signed under every gate, then released to the tab),
// approve several of one agent and scope in one step (batch review: each its own token over its own
// digest), or reject (the tab told why). Background only.
import { approveAction, rejectAction } from '../approvals';
import type { ApprovalGates } from '../approvals';
import { planBatch, refusedResult, signedResult } from '../batch-review';
import { db } from '../db';
import type { Handlers } from './handlers';
import { deliverRelease, deliverSettle, updateBadge } from './holds';
import { gates } from './verifier';

/** The gates of one approval, the verifier's status and the kill state asked now. */
async function approvalGates(): Promise<ApprovalGates> {
  const { view, status, kill } = await gates();
  return { policy: view.policy, kill, verifierReachable: status.reachable, failClosed: view.failClosed, now: Date.now() };
}

export const approvalHandlers = {
  'ui-bg:approve': async ({ actionId, wa }) => {
    const row = await approveAction(actionId, await approvalGates(), undefined, wa);
    await updateBadge();
    await deliverRelease(row);
    return { state: row.state };
  },
  'ui-bg:approve-batch': async ({ items }) => {
    const checked = await approvalGates();
    const steps = planBatch(items, await db().actions.bulkGet(items.map((i) => i.id)), Date.now());
    const results = [];
    // One at a time, each exactly as ui-bg:approve signs and releases it: a refusal leaves that item
    // out and the rest go on (a kill switch or an unreachable verifier refuses each, saying so).
    for (const step of steps) {
      if ('leftOut' in step) {
        results.push(step.leftOut);
        continue;
      }
      try {
        const row = await approveAction(step.id, { ...checked, now: Date.now() });
        await deliverRelease(row);
        results.push(signedResult(row));
      } catch (error) {
        results.push(refusedResult(step.id, error));
      }
    }
    await updateBadge();
    return { items: results };
  },
  'ui-bg:reject': async ({ actionId, reason }) => {
    const row = await rejectAction(actionId, reason, Date.now());
    await updateBadge();
    await deliverSettle(row, 'rejected', reason ? `Rejected by its owner: ${reason}` : 'Rejected by its owner.');
    return { state: row.state };
  },
} satisfies Handlers;
