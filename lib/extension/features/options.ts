// What the popup and the options page ask about this browser: its whole state, enrollment, and the
// local settings (badge mark, local policy). Background only.
import { badgeMark, newPatternMark, setBadgeMark } from '../badge-mark';
import { db } from '../db';
import { deviceKey } from '../device-key';
import { currentEnrollment, enroll } from '../enrollment';
import { refreshVerifierStatus, verifierStatus } from '../kill-switch';
import { syncLog, syncState } from '../log-sync';
import { currentPolicyView, saveLocalPolicy } from '../policy-store';
import type { Handlers } from './handlers';
import { sweep } from './holds';
import { organisationView, refreshOrganisation } from './policy';
import { killOf } from './verifier';

export const optionsHandlers = {
  'ui-bg:get-state': async () => {
    // The popup opening is a good moment to end what expired since the last alarm.
    await sweep();
    const view = await currentPolicyView();
    const [enrollment, key, status, sync, pending, mark] = await Promise.all([currentEnrollment(), deviceKey(), verifierStatus(), syncState(), db().log.where('synced').equals(0).count(), badgeMark()]);
    return {
      enrollment: enrollment ? { verifierUrl: enrollment.verifierUrl, userId: enrollment.userId, deviceId: enrollment.deviceId, kid: enrollment.kid, label: enrollment.label, enrolledAt: enrollment.enrolledAt } : null,
      kid: key.kid,
      policy: view,
      kill: killOf(view, status),
      sync: { pending, lastSyncedAt: sync.lastSyncedAt, lastError: sync.lastError },
      verifierStatus: { url: status.url, reachable: status.reachable, policyVersion: status.policyVersion, checkedAt: status.checkedAt, error: status.error },
      organisationPolicy: await organisationView(view.policy.verifierPolicy !== 'off'),
      badgeMark: mark,
    };
  },
  'ui-bg:enroll': async (input) => {
    const view = await currentPolicyView();
    // A managed verifier URL wins: a user cannot point their signatures elsewhere.
    const row = await enroll({ ...input, verifierUrl: view.policy.verifierUrl ?? input.verifierUrl });
    await refreshVerifierStatus(row.verifierUrl);
    // The organisation policy (and the sites it protects) applies before the answer reaches the
    // options page; a verifier that does not answer it now is asked again at the next poll.
    await refreshOrganisation().catch(() => undefined);
    await syncLog({ force: true });
    return { userId: row.userId, deviceId: row.deviceId, kid: row.kid };
  },
  'ui-bg:save-settings': async ({ badgeMark: mark, newBadgePattern, ...policy }) => {
    if (newBadgePattern) await newPatternMark();
    else if (mark !== undefined) await setBadgeMark(mark);
    if (Object.keys(policy).length) await saveLocalPolicy(policy);
    return null;
  },
} satisfies Handlers;
