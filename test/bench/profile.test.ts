// The CPU-profile summary of `npm run bench -- --only profile`: self and inclusive shares from a V8
// profile, only inside the load's window, idle apart; and where a frame's code lives. Node only (tests).
import { describe, expect, it } from 'vitest';
import { areaOf, summariseProfile } from '../../bench/profile';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
// (root) → boot;  (root) → verifyAction → sign;  (root) → verifyAction → insert;  (root) → (idle)
const PROFILE = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 6] },
    { id: 2, callFrame: frame('boot', 'file:///w/server/main.ts') },
    { id: 3, callFrame: frame('verifyAction', 'file:///w/server/verify.ts'), children: [4, 5] },
    { id: 4, callFrame: frame('signOneShot', 'node:internal/crypto/sig') },
    { id: 5, callFrame: frame('run', 'file:///w/node_modules/better-sqlite3/lib/x.js') },
    { id: 6, callFrame: frame('(idle)') },
  ],
  // Boot twice, then the load (sign, insert, idle, sign), then boot again after it.
  samples: [2, 2, 4, 5, 6, 4, 2],
  // timeDeltas[i] is the time before sample i: sample i is charged the delta after it.
  timeDeltas: [0, 10, 10, 30, 10, 20, 30, 0],
  startTime: 0,
  endTime: 110,
};

describe('summariseProfile', () => {
  it('counts only the window from the first to the last sample inside the named function, idle apart', () => {
    const s = summariseProfile(PROFILE, ['verifyAction', 'signOneShot'], 10, 'verifyAction');
    // In the window: sign 30 (after sample 2) + 30 (after sample 5), insert 10, idle 20 (not busy).
    expect(s.totalMs).toBeCloseTo(0.07);
    expect(s.idleShare).toBeCloseTo(20 / 90);
    expect(s.self.map((x) => x.fn.split(' ')[0])).toEqual(['signOneShot', 'run']);
    expect(s.self[0]!.share).toBeCloseTo(60 / 70);
    expect(Object.fromEntries(s.inclusive.map((x) => [x.fn, x.share]))).toEqual({ verifyAction: 1, signOneShot: 60 / 70 });
  });

  it('without a window every sample counts; a window function never sampled is an error', () => {
    expect(summariseProfile(PROFILE, []).self.map((x) => x.fn.split(' ')[0])).toContain('boot');
    expect(() => summariseProfile(PROFILE, [], 10, 'neverCalled')).toThrow(/neverCalled/);
  });
});

describe('areaOf', () => {
  it('names a package, our folder, the runtime or a native function', () => {
    expect(areaOf('file:///w/node_modules/@scope/pkg/dist/a.js', 'f')).toBe('@scope/pkg');
    expect(areaOf('file:///w/node_modules/kysely/dist/esm/x.js', 'f')).toBe('kysely');
    expect(areaOf('file:///w/server/store/decisions/sqlite.ts', 'f')).toBe('server/store/decisions');
    expect(areaOf('node:internal/crypto/sig', 'f')).toBe('node:crypto/sig');
    expect(areaOf('', '(garbage collector)')).toBe('GC');
    expect(areaOf('', 'writev')).toBe('native: writev');
  });
});
