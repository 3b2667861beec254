// How the badge passes measure their main-thread time, for the bench: every synchronous stretch is a
// `performance.measure`, and a mark ends each pass that drew. Runtime-neutral (User Timing only).

/**
 * Every synchronous stretch of a badge pass is a `performance.measure` of this name, its step in
 * `detail` (the bench sums them: the pass's main-thread time); a mark of the same name + `:drawn`
 * ends each pass that drew.
 */
export const MEASURE = 'countersign:badges';

export function timed<T>(step: string, work: () => T): T {
  const start = performance.now();
  try {
    return work();
  } finally {
    performance.measure(MEASURE, { start, detail: step });
  }
}

/**
 * Sends a message to the background and counts its synchronous cost: the messenger serialises the
 * message in its first microtask, so the measure ends one microtask later. Resolves once sent; the
 * answer comes in `answer`.
 */
export async function timedSend<T>(send: () => Promise<T>): Promise<{ answer: Promise<T> }> {
  const start = performance.now();
  const answer = send();
  await null;
  performance.measure(MEASURE, { start, detail: 'send' });
  return { answer };
}
