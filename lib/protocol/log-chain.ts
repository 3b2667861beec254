// The hash-chained action log: event schema, hashing, appending, and checking a batch against a
// device's chain (gap, fork, reorder, rewrite, splice). Runtime-neutral, pure.
import { z } from 'zod';
import { Diff, Digest, Identifier, LIMITS, Principal, TraceId } from './action';
import { canonicalJson } from './digest';
import { sha256Hex } from './encoding';
import { ChainBroken } from './errors';
import type { ChainBreak } from './errors';

export const ZERO_HASH = '0'.repeat(64);
/** Largest batch a device sends and the verifier accepts. */
export const MAX_BATCH_EVENTS = 500;

const Hash = z.string().regex(/^[0-9a-f]{64}$/, 'SHA-256 hex');

export const LogEventType = z.enum([
  'proposed',
  'held',
  'approved',
  'released',
  'rejected',
  'expired',
  'blocked',
  'failed',
  'enrolled',
  'policy_changed',
  'kill_switch',
]);
export type LogEventType = z.infer<typeof LogEventType>;

/** Terminal states of a held action: every action ends in exactly one. */
export const TERMINAL_EVENT_TYPES = ['released', 'rejected', 'expired', 'blocked', 'failed'] as const;

const eventFields = {
  deviceId: Identifier,
  epoch: z.int().min(1).max(2 ** 31),
  seq: z.int().min(1).max(2 ** 48),
  prev: Hash,
  id: Identifier,
  ts: z.int().min(0).max(2 ** 53 - 1),
  type: LogEventType,
  trc: TraceId.nullable(),
  principal: Principal.nullable(),
  agent: Identifier.nullable(),
  tool: Identifier.nullable(),
  site: z.string().max(LIMITS.url).nullable(),
  digest: Digest.nullable(),
  diff: Diff.nullable(),
  detail: z.record(z.string(), z.json()).nullable(),
};

export const UnhashedLogEvent = z.strictObject(eventFields);
export type UnhashedLogEvent = z.infer<typeof UnhashedLogEvent>;

export const LogEvent = z.strictObject({ ...eventFields, hash: Hash });
export type LogEvent = z.infer<typeof LogEvent>;

/** Where a device's chain stands: the last accepted event. */
export const ChainHead = z.strictObject({ epoch: z.int().min(1), seq: z.int().min(1), hash: Hash });
export type ChainHead = z.infer<typeof ChainHead>;

/** A SHA-256 implementation: hex of the digest of the text's UTF-8 bytes. */
export type Sha256Hex = (text: string) => string | Promise<string>;

/**
 * SHA-256 hex of the RFC 8785 JSON of the event without `hash`. `digest` only swaps the SHA-256
 * implementation (Web Crypto by default; a verifier may pass its platform's synchronous one).
 */
export async function hashEvent(event: UnhashedLogEvent | LogEvent, digest: Sha256Hex = sha256Hex): Promise<string> {
  const { hash: _ignored, ...rest } = event as LogEvent;
  return digest(canonicalJson(rest));
}

export type NewEventFields = Omit<UnhashedLogEvent, 'deviceId' | 'epoch' | 'seq' | 'prev'>;

/**
 * The next event of a chain. `head` is the chain's last event (null for a new chain); `epoch`
 * starts a new epoch (a reinstall) when it is above the head's.
 */
export async function appendEvent(
  head: ChainHead | null,
  chain: { deviceId: string; epoch: number },
  fields: NewEventFields,
): Promise<LogEvent> {
  const continues = head !== null && head.epoch === chain.epoch;
  if (head !== null && chain.epoch < head.epoch) throw new TypeError('epoch cannot go back');
  const unhashed = UnhashedLogEvent.parse({
    ...fields,
    deviceId: chain.deviceId,
    epoch: chain.epoch,
    seq: continues ? head.seq + 1 : 1,
    prev: continues ? head.hash : ZERO_HASH,
  });
  return { ...unhashed, hash: await hashEvent(unhashed) };
}

export interface ChainState {
  deviceId: string;
  /** The last accepted event, or null for a device with no events yet. */
  head: ChainHead | null;
  /** The stored hash at an already-accepted position (for retries and forks). */
  storedHash(epoch: number, seq: number): Promise<string | undefined> | string | undefined;
  /** The SHA-256 implementation for event hashes (default: Web Crypto). */
  sha256Hex?: Sha256Hex;
}

export interface BatchCheck {
  /** Events that extend the chain, in order. */
  fresh: LogEvent[];
  /** Events already accepted before, byte-identical: acknowledged again, stored once. */
  duplicates: number;
  /** The head after the batch. */
  head: ChainHead | null;
}

/**
 * Checks that `events` continue the device's chain exactly. An event already accepted is a
 * duplicate if identical and a fork if not; everything else must extend the head one by one.
 */
export async function checkBatch(state: ChainState, events: readonly LogEvent[]): Promise<BatchCheck> {
  // Whole-batch checks first, so that a shuffled batch reads as a reorder rather than a gap.
  events.forEach((event, i) => {
    if (event.deviceId !== state.deviceId) {
      throw new ChainBroken('splice', event.epoch, event.seq, 'event belongs to another device');
    }
    const before = events[i - 1];
    if (before && comparePosition(event, before) < 0) {
      throw new ChainBroken('reorder', event.epoch, event.seq, 'events are out of order');
    }
  });

  // Every event's hash is computed up front and concurrently: each digest is an asynchronous Web
  // Crypto call, and awaiting them one by one made a batch of 500 wait on 500 round trips.
  const computed = await Promise.all(events.map((event) => hashEvent(event, state.sha256Hex)));
  let head = state.head;
  const fresh: LogEvent[] = [];
  let duplicates = 0;
  let last: LogEvent | undefined;
  for (const [i, event] of events.entries()) {
    const broken = (reason: ChainBreak, message: string) => new ChainBroken(reason, event.epoch, event.seq, message);
    if (last && comparePosition(event, last) === 0) {
      if (event.hash !== last.hash) throw broken('fork', 'two events at one position');
      duplicates++;
      continue;
    }
    last = event;
    if (computed[i] !== event.hash) throw broken('rewrite', 'event content does not match its hash');

    if (head && comparePosition(event, head) <= 0) {
      const stored = await state.storedHash(event.epoch, event.seq);
      if (stored === event.hash) {
        duplicates++;
        continue;
      }
      throw broken('fork', 'a different event was already accepted at this position');
    }

    const newEpoch = head === null || event.epoch > head.epoch;
    const expectedSeq = newEpoch ? 1 : head!.seq + 1;
    if (event.seq !== expectedSeq) throw broken('gap', `expected seq ${expectedSeq}`);
    const expectedPrev = newEpoch ? ZERO_HASH : head!.hash;
    if (event.prev !== expectedPrev) throw broken('rewrite', 'prev does not match the chain');
    fresh.push(event);
    head = { epoch: event.epoch, seq: event.seq, hash: event.hash };
  }
  return { fresh, duplicates, head };
}

/** Verifies a whole chain from its first event (no prior head). */
export async function verifyChain(deviceId: string, events: readonly LogEvent[]): Promise<ChainHead | null> {
  const result = await checkBatch({ deviceId, head: null, storedHash: () => undefined }, events);
  return result.head;
}

function comparePosition(a: { epoch: number; seq: number }, b: { epoch: number; seq: number }): number {
  return a.epoch - b.epoch || a.seq - b.seq;
}
