// Reads the admin policy (storage.managed), local settings (storage.local) and the held copy of the
// organisation policy (the extension's database) into the effective policy, and watches the first
// two (the background itself says when the organisation policy changed). While watched, the view is
// read once and kept until one of them changes. Extension origin only.
import { browser } from 'wxt/browser';
import type { SiteAdapter } from '../protocol';
import { effectivePolicy } from '../policy/effective-policy';
import type { PolicyView } from '../policy/effective-policy';
import { withRegistrationProblems } from './content-scripts';
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

/** The view last read, kept only while something watches the stores (nothing else would tell it they changed). */
let kept: Promise<PolicyView> | null = null;
let watchers = 0;

/** The stored policy changed (a new organisation policy; watchPolicy does it for storage): read it again. */
export function invalidatePolicyView(): void {
  kept = null;
}

/** The effective policy as the stores have it, before what Chrome refused to register is added. */
export function storedPolicyView(): Promise<PolicyView> {
  if (!watchers) return readPolicyView();
  if (!kept) {
    const read = readPolicyView();
    kept = read;
    // A failed read is not kept: the next caller tries again.
    read.catch(() => {
      if (kept === read) kept = null;
    });
  }
  return kept;
}

/** The policy every decision runs under: the stored one, with what Chrome refused to register added (its sites fail closed). */
export async function currentPolicyView(): Promise<PolicyView> {
  return withRegistrationProblems(await storedPolicyView());
}

/** Calls `onChange` whenever an admin pushes new policy or a local setting changes, the kept view dropped first. */
export function watchPolicy(onChange: () => void): () => void {
  const listener = (_changes: unknown, area: string) => {
    if (area !== 'managed' && area !== 'local') return;
    invalidatePolicyView();
    onChange();
  };
  browser.storage.onChanged.addListener(listener);
  watchers++;
  let watching = true;
  return () => {
    if (!watching) return;
    watching = false;
    browser.storage.onChanged.removeListener(listener);
    watchers--;
    invalidatePolicyView();
  };
}

export async function saveLocalPolicy(patch: Record<string, unknown>): Promise<void> {
  const current = ((await browser.storage.local.get(LOCAL_POLICY_KEY))[LOCAL_POLICY_KEY] ?? {}) as Record<string, unknown>;
  await browser.storage.local.set({ [LOCAL_POLICY_KEY]: { ...current, ...patch } });
  // Its own write is read at once, not after storage.onChanged arrives.
  invalidatePolicyView();
}
