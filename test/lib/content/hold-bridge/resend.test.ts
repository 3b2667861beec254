// Sending to the background again when its answer is lost (the worker stopped mid-message): up to three
// tries, 200 ms and then 400 ms apart, and the last error when none answers. Node only (tests).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resend } from '@/lib/content/hold-bridge/resend';

afterEach(() => vi.useRealTimers());

describe('resend', () => {
  it('the first answer is the answer: no second send', async () => {
    const send = vi.fn(async () => 'ok');
    expect(await resend(send)).toBe('ok');
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('a lost answer is sent again, 200 ms and then 400 ms later', async () => {
    vi.useFakeTimers();
    const send = vi.fn().mockRejectedValueOnce(new Error('lost')).mockRejectedValueOnce(new Error('lost')).mockResolvedValue('ok');
    const answer = resend(send);
    await vi.advanceTimersByTimeAsync(199);
    expect(send).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(send).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(399);
    expect(send).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(await answer).toBe('ok');
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('after the last try, its error', async () => {
    vi.useFakeTimers();
    let n = 0;
    const answer = resend(async () => {
      throw new Error(`lost ${++n}`);
    }).catch((e: Error) => e.message);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await answer).toBe('lost 3');
  });
});
