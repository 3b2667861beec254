// When the badge script writes to the page: in one batch per animation frame, and — so that a page
// is laid out once for its badges, not once per answer — only when every answer a pass is waiting
// for is in, or WAIT_MS after the first of them came with others still out (a slow verifier must not
// hold back badges that are ready). Runtime-neutral: handed its frame and timer functions; touches
// no DOM itself.

/** How long answers that are in wait for those still out before they are drawn anyway. */
export const WAIT_MS = 250;

export interface FrameWriter<T> {
  /** `n` more answers are on their way (each comes as one add()). */
  expect(n: number): void;
  /** One answer: its items are written on a frame, with every other item in by then. */
  add(items: T[]): void;
  /** Resolves once nothing is awaited and every item added is written. */
  idle(): Promise<void>;
}

export interface FrameWriterDeps<T> {
  /** Runs `cb` before the next frame (the content script context's requestAnimationFrame). */
  frame(cb: () => void): void;
  timer(cb: () => void, ms: number): void;
  /** The one write of a frame: every item queued since the last. */
  write(items: T[]): void;
}

export function frameWriter<T>(deps: FrameWriterDeps<T>): FrameWriter<T> {
  let queued: T[] = [];
  let awaiting = 0;
  let frameAsked = false;
  let timerSet = false;
  let waiting: Array<() => void> = [];

  const settle = () => {
    if (awaiting || queued.length || frameAsked) return;
    const done = waiting;
    waiting = [];
    for (const resolve of done) resolve();
  };
  const write = () => {
    frameAsked = false;
    const items = queued;
    queued = [];
    if (items.length) deps.write(items);
    settle();
  };
  const ask = () => {
    timerSet = false;
    if (frameAsked || !queued.length) return settle();
    frameAsked = true;
    deps.frame(write);
  };

  return {
    expect(n) {
      awaiting += n;
    },
    add(items) {
      awaiting = Math.max(0, awaiting - 1);
      for (const item of items) queued.push(item);
      if (!awaiting) ask();
      else if (queued.length && !timerSet && !frameAsked) {
        timerSet = true;
        deps.timer(ask, WAIT_MS);
      }
    },
    idle() {
      return new Promise((resolve) => {
        waiting.push(resolve);
        settle();
      });
    },
  };
}
