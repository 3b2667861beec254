// Device-signed log batches (`POST /v1/log/batch`): signing on the device, checking on the verifier. Runtime-neutral.
import { z } from 'zod';
import { Identifier } from './action';
import { JWS_TYP, assertJwsSignature, parseCompactJws, signCompactJws } from './compact-jws';
import { TokenRejected } from './errors';
import type { EnrolledKey } from './approval-token';
import { LogEvent, MAX_BATCH_EVENTS } from './log-chain';

/** A signed batch of 500 events with diffs stays well under this. */
export const MAX_LOG_BATCH_BYTES = 4 * 1024 * 1024;

export const LogBatchPayload = z.strictObject({
  deviceId: Identifier,
  events: z.array(LogEvent).min(1).max(MAX_BATCH_EVENTS),
});
export type LogBatchPayload = z.infer<typeof LogBatchPayload>;

export function signLogBatch(privateKey: CryptoKey, kid: string, payload: LogBatchPayload): Promise<string> {
  return signCompactJws(privateKey, { typ: JWS_TYP.log, kid }, LogBatchPayload.parse(payload));
}

/**
 * Checks a batch's JWS with the rules of approval tokens (strict form, header, enrolled unrevoked
 * key, signature) and its payload schema; the key must be the batch's device's.
 */
export async function verifyLogBatch(
  jws: unknown,
  lookupKey: (kid: string) => Promise<EnrolledKey | undefined> | EnrolledKey | undefined,
): Promise<{ key: EnrolledKey; payload: LogBatchPayload }> {
  const parsed = parseCompactJws(jws, JWS_TYP.log, MAX_LOG_BATCH_BYTES);
  const key = await lookupKey(parsed.header.kid);
  if (!key || key.kid !== parsed.header.kid) throw new TokenRejected('key_unknown', 'kid is not an enrolled key');
  if (key.deviceId !== parsed.payload.deviceId) throw new TokenRejected('key_unknown', 'kid is not this device\'s key');
  if (key.revoked) throw new TokenRejected('key_revoked', 'key has been revoked');
  await assertJwsSignature(parsed, key.publicKey);
  const payload = LogBatchPayload.safeParse(parsed.payload);
  if (!payload.success) {
    const issue = payload.error.issues[0]!;
    throw new TokenRejected('token_malformed', `batch ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { key, payload: payload.data };
}
