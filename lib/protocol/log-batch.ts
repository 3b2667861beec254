// Device-signed log batches (`POST /v1/log/batch`): signing on the device, checking on the verifier. Runtime-neutral.
import { z } from 'zod';
import { Identifier } from './action';
import { JWS_TYP, parseCompactJws, signCompactJws } from './compact-jws';
import { enrolledSigner, signedPayload } from './device-signed';
import type { EnrolledKey, EnrolledKeyLookup } from './device-signed';
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
export async function verifyLogBatch(jws: unknown, lookupKey: EnrolledKeyLookup): Promise<{ key: EnrolledKey; payload: LogBatchPayload }> {
  const parsed = parseCompactJws(jws, JWS_TYP.log, MAX_LOG_BATCH_BYTES);
  const key = await enrolledSigner(parsed, lookupKey, { matches: (k) => k.deviceId === parsed.payload.deviceId, message: 'kid is not this device\'s key' });
  return { key, payload: signedPayload(LogBatchPayload, parsed.payload, 'batch') };
}
