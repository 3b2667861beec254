// Sends the local log to the verifier (`POST /v1/log/batch`) in signed batches of up to 500, with
// backoff; at-least-once and idempotent, resuming after restarts and outages. Background only.
import { z } from 'zod';
import { ErrorBody, LogBatchResponse, MAX_BATCH_EVENTS, signLogBatch } from '../protocol';
import type { LogEvent } from '../protocol';
import { db } from './db';
import { deviceKey } from './device-key';
import { defineSetting } from './settings';

const SyncState = z.object({
  failures: z.int().min(0),
  nextAttemptAt: z.number(),
  lastError: z.string().nullable(),
  lastSyncedAt: z.number().nullable(),
});
export type SyncState = z.infer<typeof SyncState>;

const INITIAL: SyncState = { failures: 0, nextAttemptAt: 0, lastError: null, lastSyncedAt: null };

/** One this build cannot read starts over: no backoff, nothing synced yet. */
export const syncStateSetting = defineSetting<SyncState>('log-sync', { schema: SyncState, fallback: INITIAL });

export function syncState(): Promise<SyncState> {
  return syncStateSetting.getValue();
}

/** Exponential backoff: 30 s, 1, 2, 4 … capped at 30 minutes. */
export function backoffMs(failures: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, failures - 1), 30 * 60_000);
}

export interface SyncResult {
  sent: number;
  pending: number;
  error?: string;
}

/**
 * Sends unacknowledged events, oldest first, until none is left or the verifier refuses. Nothing
 * is marked sent before the verifier acknowledged it, so a crash mid-sync only causes a re-send,
 * which the verifier acknowledges again without duplicates.
 */
export async function syncLog(options: { now?: number; force?: boolean; fetch?: typeof fetch } = {}): Promise<SyncResult> {
  const now = options.now ?? Date.now();
  const doFetch = options.fetch ?? fetch;
  const state = await syncState();
  const enrollment = await db().enrollment.get('current');
  const pending = () => db().log.where('synced').equals(0).count();
  if (!enrollment) return { sent: 0, pending: await pending(), error: 'not enrolled' };
  if (!options.force && now < state.nextAttemptAt) return { sent: 0, pending: await pending(), error: state.lastError ?? 'backing off' };

  const key = await deviceKey();
  let sent = 0;
  for (;;) {
    const batch = (await db().log.where('synced').equals(0).toArray())
      .filter((e) => e.deviceId === enrollment.deviceId)
      .sort((a, b) => a.epoch - b.epoch || a.seq - b.seq)
      .slice(0, MAX_BATCH_EVENTS);
    if (batch.length === 0) break;
    const events: LogEvent[] = batch.map(({ synced: _synced, ...e }) => e);
    const error = await send(doFetch, enrollment.verifierUrl, await signLogBatch(key.privateKey, key.kid, { deviceId: enrollment.deviceId, events }));
    if (error) {
      const failures = state.failures + 1;
      await syncStateSetting.setValue({ ...state, failures, nextAttemptAt: now + backoffMs(failures), lastError: error });
      return { sent, pending: await pending(), error };
    }
    await db().log.bulkUpdate(batch.map((e) => ({ key: e.id, changes: { synced: 1 as const } })));
    sent += batch.length;
  }
  await syncStateSetting.setValue({ failures: 0, nextAttemptAt: 0, lastError: null, lastSyncedAt: now });
  return { sent, pending: await pending() };
}

/** Posts one batch; returns an error text, or null when acknowledged. */
async function send(doFetch: typeof fetch, verifierUrl: string, jws: string): Promise<string | null> {
  try {
    const res = await doFetch(new URL('/v1/log/batch', verifierUrl), { method: 'POST', headers: { 'content-type': 'application/jose' }, body: jws });
    const body: unknown = await res.json().catch(() => undefined);
    if (res.ok && LogBatchResponse.safeParse(body).success) return null;
    const refusal = ErrorBody.safeParse(body);
    return refusal.success ? `${refusal.data.error.code}: ${refusal.data.error.message}` : `HTTP ${res.status}`;
  } catch {
    return 'verifier_unavailable: the verifier did not answer';
  }
}
