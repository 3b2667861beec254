// Reads the admin policy (storage.managed), local settings (storage.local) and the held copy of the
// organisation policy (the extension's database) into the effective policy, and watches the first
// two (the background itself notes a new organisation policy). Extension origin only.
import { browser } from 'wxt/browser';
import type { SiteAdapter } from '../protocol';
import { effectivePolicy } from '../policy/effective-policy';
import type { PolicyView } from '../policy/effective-policy';
import { heldOrganisationPolicy } from './organisation-policy';

export const LOCAL_POLICY_KEY = 'policy';

/** Managed storage throws where no policy can exist (Firefox without policies.json): that is "none". */
async function readManaged(): Promise<unknown> {
  try {
    return await browser.storage.managed.get();
  } catch {
    return {};
  }
}

/** The effective policy. The extension ships no built-in adapters: `builtin` is for tests of their precedence. */
export async function readPolicyView(builtin: SiteAdapter[] = []): Promise<PolicyView> {
  const [managed, local, organisation] = await Promise.all([readManaged(), browser.storage.local.get(LOCAL_POLICY_KEY), heldOrganisationPolicy()]);
  return effectivePolicy(managed, local[LOCAL_POLICY_KEY], builtin, organisation);
}

/** Calls `onChange` whenever an admin pushes new policy or a local setting changes. */
export function watchPolicy(onChange: () => void): () => void {
  const listener = (_changes: unknown, area: string) => {
    if (area === 'managed' || area === 'local') onChange();
  };
  browser.storage.onChanged.addListener(listener);
  return () => browser.storage.onChanged.removeListener(listener);
}

export async function saveLocalPolicy(patch: Record<string, unknown>): Promise<void> {
  const current = ((await browser.storage.local.get(LOCAL_POLICY_KEY))[LOCAL_POLICY_KEY] ?? {}) as Record<string, unknown>;
  await browser.storage.local.set({ [LOCAL_POLICY_KEY]: { ...current, ...patch } });
}
