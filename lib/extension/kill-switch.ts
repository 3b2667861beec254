// The kill switch as the extension sees it: the admin policy's (managed, or the organisation policy
// on the verifier) and the verifier's own (`/v1/status`, polled on an alarm). While either is on,
// nothing is signed or released. Background only.
import { z } from 'zod';
import { StatusResponse } from '../protocol';
import { defineSetting } from './settings';
import type { EffectivePolicy } from '../policy/effective-policy';
import type { KillStateView } from '../messaging/contract';

const VerifierStatusRow = z.object({
  /** The verifier asked (null: none to ask, or not asked yet). */
  url: z.string().nullable(),
  reachable: z.boolean(),
  engaged: z.boolean(),
  entries: z.array(z.object({ scope: z.string(), target: z.string().nullable(), since: z.number() })),
  policyVersion: z.string().nullable(),
  checkedAt: z.number().nullable(),
  /** Why the last request failed, without the URL (shown beside it); null when it did not fail. */
  error: z.string().nullable(),
});
export type VerifierStatusRow = z.infer<typeof VerifierStatusRow>;

const UNKNOWN: VerifierStatusRow = { url: null, reachable: false, engaged: false, entries: [], policyVersion: null, checkedAt: null, error: null };

/**
 * The last status asked. Version 2: a row stored before `url` was kept reads with `url: null`. One
 * this build cannot read is "not asked yet", which approves nothing (not reachable).
 */
export const verifierStatusSetting = defineSetting<VerifierStatusRow>('verifier-status', {
  schema: VerifierStatusRow,
  fallback: UNKNOWN,
  version: 2,
  migrations: { 2: (old) => ({ ...UNKNOWN, ...(old as object) }) },
});

export function verifierStatus(): Promise<VerifierStatusRow> {
  return verifierStatusSetting.getValue();
}

/** Asks `/v1/status`: its answer, or what went wrong (a network error's own message, a timeout, an HTTP status, a wrong answer). */
async function askStatus(verifierUrl: string, fetchFn: typeof fetch): Promise<StatusResponse | string> {
  let res: Response;
  try {
    res = await fetchFn(new URL('/v1/status', verifierUrl), { signal: AbortSignal.timeout(5000) });
  } catch (e) {
    const err = e as Error;
    return err.name === 'TimeoutError' ? 'did not answer within 5 s' : `did not answer (${err.message || err.name || 'network error'})`;
  }
  if (!res.ok) return `answered HTTP ${res.status} to GET /v1/status`;
  const parsed = StatusResponse.safeParse(await res.json().catch(() => null));
  return parsed.success ? parsed.data : 'answered GET /v1/status with something that is not a verifier status';
}

/** Asks the verifier for its status and stores the answer (or the failure). */
export async function refreshVerifierStatus(verifierUrl: string | null, fetchFn: typeof fetch = fetch, now = Date.now()): Promise<VerifierStatusRow> {
  let row: VerifierStatusRow;
  if (!verifierUrl) {
    row = { ...UNKNOWN, checkedAt: now, error: 'no verifier URL configured' };
  } else {
    const status = await askStatus(verifierUrl, fetchFn);
    if (typeof status !== 'string') {
      row = { url: verifierUrl, reachable: true, engaged: status.killSwitch.engaged, entries: status.killSwitch.entries, policyVersion: status.policyVersion, checkedAt: now, error: null };
    } else {
      const previous = await verifierStatus();
      // An unreachable verifier keeps the last known kill switch: silence never lifts a kill.
      row = { ...previous, url: verifierUrl, reachable: false, checkedAt: now, error: status };
    }
  }
  await verifierStatusSetting.setValue(row);
  return row;
}

/**
 * Combines both switches into the state the popup shows and the signer obeys. `from` names where the
 * policy's switch came from (e.g. `managed + verifier (version 3)`).
 */
export function killState(policy: EffectivePolicy, verifier: VerifierStatusRow, from = 'managed'): KillStateView {
  const reasons: string[] = [];
  if (policy.killSwitch) reasons.push(`Your administrator turned on the kill switch (${from === 'managed' ? 'managed policy' : `policy: ${from}`}).`);
  for (const e of verifier.entries) {
    reasons.push(`The verifier's kill switch is on${e.scope === 'global' ? '' : ` for ${e.scope} ${e.target ?? ''}`} since ${new Date(e.since).toISOString()}.`);
  }
  return { engaged: reasons.length > 0, reasons, verifier: { engaged: verifier.engaged, checkedAt: verifier.checkedAt, error: verifier.error } };
}
