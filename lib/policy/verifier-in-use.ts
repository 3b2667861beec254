// Which verifier this browser uses and where that came from, and what the last request to it
// found, in the words the options page and popup show. Pure; runtime-neutral.
import type { VerifierStatusView } from '../messaging/views';
import { describeSources } from './effective-policy';
import type { PolicyView } from './effective-policy';

export interface VerifierInUse {
  url: string | null;
  /** `managed` (or `local`) when the admin policy sets it, `enrollment` when it comes from enrolling, `default` when neither. */
  source: string;
}

/**
 * The verifier the background signs for, checks status with and takes receipts from: the admin
 * policy's `verifierUrl`, else the one this browser enrolled with. The organisation policy cannot
 * set it (it comes from that verifier).
 */
export function verifierInUse(view: PolicyView, enrollment: { verifierUrl: string } | null | undefined): VerifierInUse {
  if (view.policy.verifierUrl !== null) return { url: view.policy.verifierUrl, source: describeSources(view.sources.verifierUrl, view.verifier?.version) };
  if (enrollment) return { url: enrollment.verifierUrl, source: 'enrollment' };
  return { url: null, source: 'default' };
}

const SOURCE_WORDS: Record<string, string> = { managed: 'managed policy', local: 'local policy', enrollment: 'enrollment' };

/** E.g. `http://127.0.0.1:8787 (from enrollment)`, or what to do when there is none yet. */
export function verifierInUseText(v: VerifierInUse): string {
  if (v.url === null) return 'none yet: enroll this browser with a verifier URL and a code';
  return `${v.url} (from ${SOURCE_WORDS[v.source] ?? v.source})`;
}

export type { VerifierStatusView };

/** "Not reachable" only after a request that failed, with the URL asked, the error and when. */
export function verifierStatusText(s: VerifierStatusView): string {
  if (s.checkedAt === null) return 'not checked yet';
  if (s.url === null) return 'not checked: there is no verifier to ask until this browser is enrolled';
  if (s.reachable) return `reachable: ${s.url}, policy ${s.policyVersion ?? '(none)'}`;
  return `not reachable: ${s.url}: ${s.error ?? 'no answer'} (checked ${new Date(s.checkedAt).toISOString()})`;
}
