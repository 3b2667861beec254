// Enrolling this browser with the verifier: one-time code + the device's public key, and the WebAuthn
// credential the options page registered for it (DESIGN.md, "User presence"), when there is one.
// Enrolling again (a lost authenticator, one to add, a new code from the admin) enrolls a fresh key:
// the verifier enrolls a key once. Background only.
import { EnrollResponse, ErrorBody } from '../protocol';
import type { WebAuthnRegistration } from '../protocol';
import { appendLog, logTables } from './log';
import type { DeviceKeyRow, EnrollmentRow } from './db';
import { db } from './db';
import { deviceKey, storedKey } from './device-key';

export class EnrollmentFailed extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'EnrollmentFailed';
  }
}

/**
 * The key the next enrollment enrolls: the device key before the first; once enrolled, a fresh
 * non-extractable key kept as `next` (made once, the same for every attempt) until an enrollment with
 * it succeeds and it becomes the device key. Its kid is what the credential's challenge binds.
 */
export async function keyToEnroll(): Promise<DeviceKeyRow> {
  return (await currentEnrollment()) ? storedKey('next') : deviceKey();
}

export interface EnrollmentInput {
  verifierUrl: string;
  code: string;
  label: string;
  /** The credential registered over enrollmentChallenge(kid) of this device's key, and the RP id the page created it for. */
  credential?: WebAuthnRegistration;
  rpId?: string;
}

/**
 * Enrolls the device key (and its credential). The row keeps the credential's id and the RP id the
 * page created it for (assertions are asked for that same id) only when the verifier registered it;
 * a verifier that registered another credential than the one sent is refused.
 */
export async function enroll(input: EnrollmentInput, fetchFn: typeof fetch = fetch): Promise<EnrollmentRow> {
  if ((input.credential === undefined) !== (input.rpId === undefined)) throw new TypeError('enroll: a credential comes with its RP id');
  const key = await keyToEnroll();
  let res: Response;
  try {
    res = await fetchFn(new URL('/v1/enroll', input.verifierUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: input.code.trim(), publicKeyJwk: key.publicJwk, label: input.label, ...(input.credential ? { credential: input.credential } : {}) }),
    });
  } catch {
    throw new EnrollmentFailed('verifier_unavailable', `The verifier at ${input.verifierUrl} did not answer.`);
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const error = ErrorBody.safeParse(body);
    throw new EnrollmentFailed(error.success ? error.data.error.code : 'verifier_unavailable', error.success ? error.data.error.message : `HTTP ${res.status}`);
  }
  const answer = EnrollResponse.parse(body);
  if (answer.kid !== key.kid) throw new EnrollmentFailed('key_unknown', 'The verifier enrolled another key.');
  if (answer.presence && answer.presence.credentialId !== input.credential?.id) throw new EnrollmentFailed('payload_invalid', 'The verifier registered another credential than this device\'s.');
  const presence = answer.presence && input.rpId ? { credentialId: answer.presence.credentialId, rpId: input.rpId } : undefined;
  const row: EnrollmentRow = { id: 'current', verifierUrl: input.verifierUrl, deviceId: answer.deviceId, userId: answer.userId, kid: answer.kid, label: input.label, enrolledAt: Date.now(), ...(presence ? { presence } : {}) };
  await db().transaction('rw', logTables(db().enrollment, db().keys, db().presenceDrafts), async () => {
    // Enrolled again: the fresh key is the device key from now on; drafts made for the old credential go.
    if (key.id === 'next') {
      await db().keys.put({ ...key, id: 'device' });
      await db().keys.delete('next');
    }
    await db().presenceDrafts.clear();
    await db().enrollment.put(row);
    await db().chain.put({ id: 'chain', deviceId: row.deviceId, epoch: 1, head: null });
    await appendLog({ id: crypto.randomUUID(), ts: Date.now(), type: 'enrolled', trc: null, principal: { kind: 'user', id: row.userId }, agent: null, tool: null, site: input.verifierUrl, digest: null, diff: null, detail: { kid: row.kid, label: row.label, ...(presence ? { credential: presence.credentialId } : {}) } });
  });
  return row;
}

export function currentEnrollment(): Promise<EnrollmentRow | undefined> {
  return db().enrollment.get('current');
}
