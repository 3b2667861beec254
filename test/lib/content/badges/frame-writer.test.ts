// When the badge script writes: one batch per frame, held until every awaited answer is in (the page
// is laid out once for them), or WAIT_MS after the first answer while others are still out; idle()
// once everything is written. Fake frames and timers. Node only (tests).
import { describe, expect, it } from 'vitest';
import { WAIT_MS, frameWriter } from '@/lib/content/badges/frame-writer';

function setUp() {
  const frames: Array<() => void> = [];
  const timers: Array<{ cb: () => void; ms: number }> = [];
  const writes: number[][] = [];
  const writer = frameWriter<number>({ frame: (cb) => void frames.push(cb), timer: (cb, ms) => void timers.push({ cb, ms }), write: (items) => void writes.push(items) });
  const runFrames = () => frames.splice(0).forEach((cb) => cb());
  return { writer, frames, timers, writes, runFrames };
}

describe('frameWriter', () => {
  it('holds answers until the last awaited one is in, then writes them all in one frame', async () => {
    const { writer, frames, writes, runFrames, timers } = setUp();
    writer.expect(3);
    writer.add([1, 2]);
    writer.add([]);
    expect(frames).toHaveLength(0);
    writer.add([3]);
    expect(frames).toHaveLength(1);
    expect(writes).toEqual([]);
    let idle = false;
    void writer.idle().then(() => (idle = true));
    runFrames();
    expect(writes).toEqual([[1, 2, 3]]);
    await Promise.resolve();
    expect(idle).toBe(true);
    // The timer set by the first answer, should it still fire, finds nothing to write.
    timers.splice(0).forEach((t) => t.cb());
    expect(frames).toHaveLength(0);
  });

  it('a slow answer does not hold back those that are in: they are written WAIT_MS after the first, the rest on a later frame', () => {
    const { writer, frames, timers, writes, runFrames } = setUp();
    writer.expect(2);
    writer.add([1]);
    expect(timers.map((t) => t.ms)).toEqual([WAIT_MS]);
    timers.shift()!.cb();
    runFrames();
    writer.add([2]);
    runFrames();
    expect(writes).toEqual([[1], [2]]);
    expect(frames).toHaveLength(0);
  });

  it('answers that come while a frame is asked for go in that frame: one write per frame', () => {
    const { writer, frames, writes, runFrames } = setUp();
    writer.expect(1);
    writer.add([1]);
    writer.expect(1);
    writer.add([2]);
    expect(frames).toHaveLength(1);
    runFrames();
    expect(writes).toEqual([[1, 2]]);
  });

  it('idle at once with nothing awaited; nothing written for answers without items', async () => {
    const { writer, frames, writes } = setUp();
    await writer.idle();
    writer.expect(1);
    writer.add([]);
    await writer.idle();
    expect([frames.length, writes.length]).toEqual([0, 0]);
  });
});
