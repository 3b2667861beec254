// The messages of user presence (DESIGN.md, "User presence"): the options page's registration
// challenge before enrolling, and the popup's question before an approval — does it need the person's
// presence, and over which challenge. A held action's requirement is its plan's (asked again when it
// is not known); an agent proposal's (a published two-person hold among them) is the verifier's list's.
// Background only.
import type { PresenceRequirement } from '../protocol';
import type { PresenceChallengeInput, PresenceChallengeOutput } from '../messaging/contract';
import { ExtensionError } from '../messaging/errors';
import { askPlan } from './approval-plan';
import { agentProposalsSetting } from './agent-proposals-store';
import { db } from './db';
import type { PendingActionRow } from './db';
import type { Handlers } from './features/handlers';
import { currentPolicyView } from './policy-store';
import { askPresence, enrollmentChallengeOf } from './presence';

/** What the plan of a held action says, asked now when it was not known; null when still unknown. */
export type PlanPresence = (row: PendingActionRow) => Promise<PresenceRequirement | null>;

const planPresence: PlanPresence = async (row) => (await askPlan(row).catch(() => null))?.presence ?? null;

/**
 * The presence question of one approval. A held action must still be held. Its plan unknown (the
 * verifier did not answer): presence is asked anyway when the device has a credential (an assertion is
 * checked wherever it is present), else it is signed as before and the tool's verifier decides.
 */
export async function presenceChallengeFor(input: PresenceChallengeInput, now: number, plan: PlanPresence = planPresence): Promise<PresenceChallengeOutput> {
  const ttlSeconds = (await currentPolicyView()).policy.approvalTtlSeconds;
  if (input.kind === 'held') {
    const row = await db().actions.get(input.id);
    if (!row) throw new ExtensionError('not_found', 'No such pending action.');
    if (row.state !== 'held') throw new ExtensionError('not_pending', `This action is ${row.state}: there is nothing to approve.`);
    const known = row.presence ?? (await plan(row));
    const requirement = known ?? ((await db().enrollment.get('current'))?.presence ? 'uv' : 'none');
    return askPresence({ kind: 'held', id: row.id, dig: row.digest }, requirement, { ttlSeconds, now });
  }
  const proposal = (await agentProposalsSetting.getValue()).proposals.find((p) => p.id === input.id);
  if (!proposal) throw new ExtensionError('not_found', 'No such agent proposal waits for you (decided, expired, or never listed).');
  return askPresence({ kind: 'proposal', id: proposal.id, dig: proposal.digest }, proposal.presence, { ttlSeconds, now });
}

export const presenceHandlers = {
  'ui-bg:enrollment-challenge': () => enrollmentChallengeOf(),
  'ui-bg:presence-challenge': (input) => presenceChallengeFor(input, Date.now()),
} satisfies Handlers;
