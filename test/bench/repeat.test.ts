// Unit tests for bench/repeat.ts: repeated phases, their median / min–max / spread, and the NOISY mark.
import { describe, expect, it } from 'vitest';
import { NOISY_SPREAD, REPETITIONS, median, repeat, repeatedMetric, summarise, summaryMetric } from '../../bench/repeat';

describe('repeat', () => {
  it('runs the phase n times, in order, one after the other', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    const results = await repeat(REPETITIONS, async (run) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(run);
      running--;
      return run * 10;
    });
    expect(REPETITIONS).toBe(3);
    expect(results).toEqual([0, 10, 20]);
    expect(seen).toEqual([0, 1, 2]);
    expect(most).toBe(1);
  });

  it('takes a synchronous phase too', async () => {
    expect(await repeat(2, (run) => `run ${run}`)).toEqual(['run 0', 'run 1']);
  });

  it('refuses a count that is not a whole number ≥ 1', async () => {
    await expect(repeat(0, () => 1)).rejects.toThrow(/≥ 1/);
    await expect(repeat(1.5, () => 1)).rejects.toThrow(/≥ 1/);
  });

  it('stops at the first phase that throws', async () => {
    const runs: number[] = [];
    await expect(
      repeat(3, (run) => {
        runs.push(run);
        if (run === 1) throw new Error('non-2xx');
        return run;
      }),
    ).rejects.toThrow('non-2xx');
    expect(runs).toEqual([0, 1]);
  });
});

describe('summarise', () => {
  it('gives the median, min, max and spread = (max − min) / median', () => {
    expect(summarise([110, 90, 100])).toEqual({ median: 100, min: 90, max: 110, spread: 0.2 });
  });

  it('takes the mean of the middle two for an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(summarise([1, 3]).spread).toBe(1);
  });

  it('is 0 for agreeing runs, and for one run', () => {
    expect(summarise([5, 5, 5]).spread).toBe(0);
    expect(summarise([7])).toEqual({ median: 7, min: 7, max: 7, spread: 0 });
    expect(summarise([0, 0, 0]).spread).toBe(0);
  });

  it('measures a negative median by its size; runs differing around 0 are infinitely spread', () => {
    expect(summarise([-0.9, -1, -1.1]).spread).toBeCloseTo(0.2);
    expect(summarise([-1, 0, 1]).spread).toBe(Infinity);
  });

  it('refuses no values and values that are not finite', () => {
    expect(() => summarise([])).toThrow(/nothing/);
    expect(() => summarise([1, Number.NaN, 2])).toThrow(/finite/);
  });

  it('leaves its input in order', () => {
    const values = [3, 1, 2];
    summarise(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('summaryMetric', () => {
  const spec = { metric: 'verify SQLite: ratio', unit: '×', goal: '≥ 0.5', digits: 2, pass: (m: number) => m >= 0.5 };

  it('reports the median with its min–max and spread, and passes on the unrounded median', () => {
    expect(summaryMetric(summarise([0.52, 0.5, 0.51]), spec)).toEqual({ metric: 'verify SQLite: ratio', value: 0.51, unit: '×', goal: '≥ 0.5', pass: true, min: 0.5, max: 0.52, spread: 0.0392, noisy: false });
    expect(repeatedMetric([0.499, 0.4995, 0.4999], spec).pass).toBe(false);
  });

  it('is noisy over 15 % and not at it', () => {
    expect(NOISY_SPREAD).toBe(0.15);
    expect(repeatedMetric([85, 100, 100], spec).noisy).toBe(false);
    expect(repeatedMetric([84, 100, 100], spec).noisy).toBe(true);
    expect(repeatedMetric([-1, 0, 1], spec).noisy).toBe(true);
  });

  it('passes a baseline or a figure only reported', () => {
    expect(repeatedMetric([1, 2, 3], { metric: 'baseline: raw', unit: 'req/s', goal: 'baseline', digits: 0 })).toMatchObject({ pass: true, noisy: true, spread: 1 });
  });
});
