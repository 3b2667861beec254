// A held action's approval plan from the verifier (`POST /v1/approval-plan`, device-authenticated):
// how many distinct people policy requires for it, whether it needs the person's presence (kept on the
// row, so the popup says so before the click), and a policy bot's token when a bot's rule covers it.
// Asked when an action is held, and again at approval when the verifier did not answer then. No
// answer is an unknown plan, never "one approver" or "no presence": the tool's verifier decides either
// way. Background only.
import type { ApprovalPlan } from '../protocol';
import type { PendingActionRow } from './db';
import { db } from './db';
import { postApprovalPlan } from './agent-proposals-client';
import type { Authorize } from './agent-proposals-client';
import { currentEnrollment } from './enrollment';
import { verifierUrl } from './features/verifier';
import { deviceAuthorization } from './receipt-lookup';

export interface PlanDeps {
  /** The verifier to ask; default: the one in use, when this browser is enrolled. */
  verifier?: string | null;
  authorize?: Authorize;
  fetchFn?: typeof fetch;
}

/**
 * The plan of `row`, or null when there is nobody to ask or the verifier did not answer (or refused).
 * A stored row (one with an `id`) keeps the plan's presence requirement.
 */
export async function askPlan(row: Pick<PendingActionRow, 'spec' | 'contentField'> & { id?: string }, deps: PlanDeps = {}): Promise<ApprovalPlan | null> {
  const verifier = deps.verifier !== undefined ? deps.verifier : (await currentEnrollment()) ? await verifierUrl() : null;
  if (!verifier) return null;
  const answer = await postApprovalPlan(
    verifier,
    {
      request: row.spec.request,
      scope: row.spec.scope,
      agent: row.spec.agent,
      traceId: row.spec.trc,
      ...(row.contentField ? { contentField: row.contentField } : {}),
    },
    deps.authorize ?? deviceAuthorization,
    deps.fetchFn ?? fetch,
  );
  if (!answer.ok) return null;
  if (row.id !== undefined) await db().actions.update(row.id, { presence: answer.value.presence });
  return answer.value;
}
