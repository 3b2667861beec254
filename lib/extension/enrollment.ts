// Enrolling this browser with the verifier: one-time code + the device's public key. Background only.
import { EnrollResponse, ErrorBody } from '../protocol';
import { appendLog, logTables } from './log';
import type { EnrollmentRow } from './db';
import { db } from './db';
import { deviceKey } from './device-key';

export class EnrollmentFailed extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'EnrollmentFailed';
  }
}

export async function enroll(input: { verifierUrl: string; code: string; label: string }, fetchFn: typeof fetch = fetch): Promise<EnrollmentRow> {
  const key = await deviceKey();
  let res: Response;
  try {
    res = await fetchFn(new URL('/v1/enroll', input.verifierUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: input.code.trim(), publicKeyJwk: key.publicJwk, label: input.label }),
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
  const row: EnrollmentRow = { id: 'current', verifierUrl: input.verifierUrl, deviceId: answer.deviceId, userId: answer.userId, kid: answer.kid, label: input.label, enrolledAt: Date.now() };
  await db().transaction('rw', logTables(db().enrollment), async () => {
    await db().enrollment.put(row);
    await db().chain.put({ id: 'chain', deviceId: row.deviceId, epoch: 1, head: null });
    await appendLog({ id: crypto.randomUUID(), ts: Date.now(), type: 'enrolled', trc: null, principal: { kind: 'user', id: row.userId }, agent: null, tool: null, site: input.verifierUrl, digest: null, diff: null, detail: { kid: row.kid, label: row.label } });
  });
  return row;
}

export function currentEnrollment(): Promise<EnrollmentRow | undefined> {
  return db().enrollment.get('current');
}
