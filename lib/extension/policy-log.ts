// Records a `policy_changed` log event whenever the effective policy differs from the last one
// recorded, so the log shows which policy every later decision ran under. Background only.
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '../protocol';
import { db } from './db';
import type { PolicyView } from '../policy/effective-policy';
import { appendLog, logTables } from './log';
import { defineSetting } from './settings';

/** The hash of the policy last logged; written in the transaction of its `policy_changed` event. */
export const policyLoggedSetting = defineSetting<string | null>('policy-logged', { schema: z.string().nullable(), fallback: null });

export async function recordPolicyIfChanged(view: PolicyView, now = Date.now()): Promise<boolean> {
  const hash = await sha256Hex(canonicalJson({ policy: view.policy, problems: view.problems }));
  // Compare and append in one transaction: two wake-ups noticing the same policy record it once.
  return db().transaction('rw', logTables(db().settings), async () => {
    if ((await policyLoggedSetting.getValue()) === hash) return false;
    await appendLog({
      id: crypto.randomUUID(),
      ts: now,
      type: 'policy_changed',
      trc: null,
      principal: null,
      agent: null,
      tool: null,
      site: view.policy.verifierUrl,
      digest: null,
      diff: null,
      detail: { policyHash: hash, problems: view.problems.length, killSwitch: view.policy.killSwitch, adapters: view.policy.adapters.map((a) => a.id).join(','), organisationPolicyVersion: view.verifier?.version ?? null },
    });
    await policyLoggedSetting.setValue(hash);
    return true;
  });
}
