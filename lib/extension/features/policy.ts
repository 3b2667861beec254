// The effective policy followed: content-script registration and the policy log on every change
// (managed or local storage, a new organisation policy), and the organisation policy fetched from
// the verifier. Background only.
import type { OrganisationPolicyView } from '../../messaging/contract';
import { syncContentScripts } from '../content-scripts';
import { readOrganisationPolicy, refreshOrganisationPolicy } from '../organisation-policy';
import { recordPolicyIfChanged } from '../policy-log';
import { currentPolicyView, invalidatePolicyView, storedPolicyView, watchPolicy } from '../policy-store';
import type { Handlers } from './handlers';

/**
 * Content-script registration and the policy log follow the effective policy: on a managed or local
 * change (watchPolicy) and on a new organisation policy from the verifier alike.
 */
export async function notePolicy(): Promise<void> {
  await syncContentScripts(await storedPolicyView()).catch(() => undefined);
  // Read after registering: what Chrome refused just now is part of the policy logged.
  await recordPolicyIfChanged(await currentPolicyView());
}

/**
 * Asks the enrolled verifier for the organisation policy (unless a managed `verifierPolicy: "off"`
 * says not to) and, when the held copy changed, applies it as any policy change.
 */
export async function refreshOrganisation(): Promise<OrganisationPolicyView> {
  const enabled = (await currentPolicyView()).policy.verifierPolicy !== 'off';
  const { changed } = await refreshOrganisationPolicy({ enabled });
  if (changed) {
    invalidatePolicyView();
    await notePolicy();
  }
  return organisationView(enabled);
}

export async function organisationView(enabled: boolean): Promise<OrganisationPolicyView> {
  const state = await readOrganisationPolicy();
  const copy = state.copy;
  return { enabled, version: copy?.version ?? null, verifierUrl: copy?.verifierUrl ?? null, updatedAt: copy?.updatedAt ?? null, fetchedAt: copy?.fetchedAt ?? null, checkedAt: state.checkedAt, error: state.error };
}

export const policyHandlers = {
  'ui-bg:refresh-organisation-policy': () => refreshOrganisation(),
} satisfies Handlers;

/** Watches the policy (which also keeps the view cached until it changes) and applies the one there is now. */
export function startPolicy(): void {
  watchPolicy(() => void notePolicy());
  void notePolicy();
}
