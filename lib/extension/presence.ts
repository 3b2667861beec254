// User presence in the background (DESIGN.md, "User presence"): the challenge the options page
// registers the device's WebAuthn credential over; before an approval that needs presence, a draft of
// its token (jti, iat, exp) stored with the challenge the person's assertion must sign; at approval,
// that assertion checked against the draft and the enrolled credential before anything is signed. The
// verifier decides; these checks keep a wrong assertion from being signed into a token at all, and say
// why. Background only (IndexedDB, the device key).
import { approvalDraft, assertionChallenge, enrollmentChallenge, presenceChallenge } from '../protocol';
import type { PresenceRequirement, WebAuthnAssertion } from '../protocol';
import type { EnrollmentChallengeOutput, PresenceChallengeOutput } from '../messaging/contract';
import { ExtensionError } from '../messaging/errors';
import type { EnrollmentRow, PresenceDraftRow } from './db';
import { db } from './db';
import { keyToEnroll } from './enrollment';

/** Why a device without a credential cannot approve where presence is required, and what to do. */
export const NO_CREDENTIAL_TEXT =
  'This approval needs your presence, and this device has no authenticator registered: ask your admin for a new enrollment code and enroll again with one.';

/** An approval the person's presence is asked for: a held action or an agent proposal, and the digest its token binds. */
export interface PresenceSubject {
  kind: PresenceDraftRow['kind'];
  id: string;
  dig: string;
}

const keyOf = (subject: Pick<PresenceSubject, 'kind' | 'id'>) => `${subject.kind}:${subject.id}`;

/** The key about to be enrolled (the device key, or a fresh one to enroll again: enrollment.ts) and its credential's registration challenge. */
export async function enrollmentChallengeOf(): Promise<EnrollmentChallengeOutput> {
  const key = await keyToEnroll();
  return { kid: key.kid, challenge: await enrollmentChallenge(key.kid) };
}

/**
 * What an approval needs before it is signed. `none`: nothing (any draft of it forgotten). `uv`: a
 * draft of its token made now, with the TTL and clock it is minted with, stored (replacing an older
 * one), and its challenge answered with the credential to assert with. Refused, saying what to do,
 * when the device is not enrolled or has no credential.
 */
export async function askPresence(subject: PresenceSubject, requirement: PresenceRequirement, clock: { ttlSeconds: number; now: number }): Promise<PresenceChallengeOutput> {
  if (requirement === 'none') {
    await db().presenceDrafts.delete(keyOf(subject));
    return { presence: 'none' };
  }
  const enrollment = await db().enrollment.get('current');
  if (!enrollment) throw new ExtensionError('not_enrolled', 'This browser is not enrolled: open the options page and enroll it first.');
  if (!enrollment.presence) throw new ExtensionError('presence_required', NO_CREDENTIAL_TEXT);
  const draft = approvalDraft({ ttlSeconds: clock.ttlSeconds, now: Math.floor(clock.now / 1000) });
  const challenge = await presenceChallenge({ dig: subject.dig, jti: draft.jti, exp: draft.exp });
  await db().presenceDrafts.put({ key: keyOf(subject), kind: subject.kind, id: subject.id, dig: subject.dig, ...draft, challenge, createdAt: clock.now });
  return { presence: 'uv', challenge, credentialId: enrollment.presence.credentialId, rpId: enrollment.presence.rpId };
}

/**
 * The stored draft an assertion was made over, checked before anything is signed: the device has a
 * credential and the assertion is by it, a draft waits for this approval, binds this digest, is not
 * past its `exp`, and its challenge is the one in the assertion's clientDataJSON. Throws, saying why.
 */
async function checkedDraft(subject: PresenceSubject, wa: WebAuthnAssertion, enrollment: EnrollmentRow, now: number): Promise<PresenceDraftRow> {
  if (!enrollment.presence) throw new ExtensionError('presence_required', NO_CREDENTIAL_TEXT);
  if (wa.id !== enrollment.presence.credentialId) throw new ExtensionError('presence_invalid', 'The assertion was made with another credential than this device\'s registered one: nothing is signed.');
  const draft = await db().presenceDrafts.get(keyOf(subject));
  if (!draft) throw new ExtensionError('presence_invalid', 'No presence challenge waits for this approval (it was used already, or never asked): nothing is signed. Approve again.');
  if (draft.dig !== subject.dig) throw new ExtensionError('presence_invalid', 'The presence challenge was made for another request: nothing is signed. Approve again.');
  if (now >= draft.exp * 1000) throw new ExtensionError('expired', 'Confirming your presence took longer than an approval lives: nothing is signed. Approve again.');
  if (assertionChallenge(wa) !== draft.challenge) throw new ExtensionError('presence_invalid', 'The assertion is not over this approval\'s challenge: nothing is signed.');
  return draft;
}

/** The fields an approval is minted with: its clock and TTL, or — with presence — its draft's jti, iat and exp and the assertion. */
export type MintTiming = { now: number; ttlSeconds: number; jti?: string; wa?: WebAuthnAssertion };

/**
 * How an approval is minted, checked before anything is signed. With `wa`: the stored draft, checked
 * against it (checkedDraft), gives exactly the jti, iat and exp the assertion signed over. Without:
 * refused where the requirement is `uv` (unknown or `none`: minted on the clock as before; the
 * verifier decides). Call clearDraft once the token is stored: a draft signs one token.
 */
export async function mintTiming(
  subject: PresenceSubject,
  wa: WebAuthnAssertion | undefined,
  requirement: PresenceRequirement | undefined,
  enrollment: EnrollmentRow,
  clock: { ttlSeconds: number; now: number },
): Promise<MintTiming> {
  if (wa) {
    const draft = await checkedDraft(subject, wa, enrollment, clock.now);
    return { jti: draft.jti, now: draft.iat, ttlSeconds: draft.exp - draft.iat, wa };
  }
  if (requirement === 'uv') {
    throw new ExtensionError(
      'presence_required',
      enrollment.presence ? 'This approval needs your presence: approve it again and confirm with your fingerprint, PIN or security key.' : NO_CREDENTIAL_TEXT,
    );
  }
  return { now: Math.floor(clock.now / 1000), ttlSeconds: clock.ttlSeconds };
}

/** Forgets an approval's draft (once minted: a draft signs one token). */
export function clearDraft(subject: Pick<PresenceSubject, 'kind' | 'id'>): Promise<void> {
  return db().presenceDrafts.delete(keyOf(subject));
}
