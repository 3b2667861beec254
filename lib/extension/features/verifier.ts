// The verifier in use and the gates an approval passes: its URL (managed policy, else enrollment),
// its status asked afresh, and the kill state of both switches. Background only.
import { describeSources } from '../../policy/effective-policy';
import type { PolicyView } from '../../policy/effective-policy';
import { verifierInUse } from '../../policy/verifier-in-use';
import { currentEnrollment } from '../enrollment';
import { killState, refreshVerifierStatus } from '../kill-switch';
import type { VerifierStatusRow } from '../kill-switch';
import { currentPolicyView } from '../policy-store';
import type { Handlers } from './handlers';

/** The verifier in use, as the options page names it too (verifierInUse): managed policy, else enrollment. */
export async function verifierUrl(view?: PolicyView): Promise<string | null> {
  return verifierInUse(view ?? (await currentPolicyView()), await currentEnrollment()).url;
}

/** The kill state, its policy reason naming where the policy's switch came from. */
export function killOf(view: PolicyView, status: VerifierStatusRow) {
  return killState(view.policy, status, describeSources(view.sources.killSwitch, view.verifier?.version));
}

/** Asks the verifier in use for its status (the status alarm). */
export async function refreshStatus(): Promise<VerifierStatusRow> {
  return refreshVerifierStatus(await verifierUrl());
}

/** What an approval is decided under: the policy, the verifier's status asked now, the kill state. */
export async function gates() {
  const view = await currentPolicyView();
  const status = await refreshVerifierStatus(await verifierUrl(view));
  return { view, status, kill: killOf(view, status) };
}

export const verifierHandlers = {
  'ui-bg:check-kill-switch': async () => (await gates()).kill,
} satisfies Handlers;
