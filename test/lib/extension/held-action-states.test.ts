// The held action's transition table, every state against every event: what may move where, that
// nothing leaves an end state, that a move the table does not list is refused (not_pending), and how
// the tab's report (released, or refused with HTTP ≥ 400, or failed) becomes an event.
import { describe, expect, it } from 'vitest';
import { ACTION_EVENTS, ACTION_STATES, TERMINAL_STATES, TRANSITIONS, logTypeOf, nextState, reportedEvent, transition } from '@/lib/extension/held-action-states';
import type { ActionEvent, ActionStart, ActionState } from '@/lib/extension/held-action-states';
import { ExtensionError } from '@/lib/messaging/errors';
import { LogEventType, TERMINAL_EVENT_TYPES } from '@/lib/protocol';

/** Every allowed move, written out: a change to the table must change this list too. */
const ALLOWED: Array<[ActionStart | ActionState, ActionEvent, ActionState]> = [
  ['new', 'propose', 'held'],
  ['new', 'block', 'blocked'],
  ['held', 'approve', 'approved'],
  ['held', 'share', 'awaiting'],
  ['held', 'reject', 'rejected'],
  ['held', 'expire', 'expired'],
  ['held', 'fail', 'failed'],
  ['held', 'navigate', 'failed'],
  ['awaiting', 'quorum', 'approved'],
  ['awaiting', 'reject', 'rejected'],
  ['awaiting', 'expire', 'expired'],
  ['awaiting', 'fail', 'failed'],
  ['awaiting', 'navigate', 'failed'],
  ['approved', 'release', 'released'],
  ['approved', 'refuse', 'failed'],
  ['approved', 'lapse', 'failed'],
  ['approved', 'fail', 'failed'],
];

const FROM: Array<ActionStart | ActionState> = ['new', ...ACTION_STATES];
const every = FROM.flatMap((from) => ACTION_EVENTS.map((event) => [from, event] as const));

describe('the held action\'s transition table', () => {
  it('lists every state, and no other', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...FROM].sort());
  });

  it.each(every)('%s + %s', (from, event) => {
    const allowed = ALLOWED.find(([f, e]) => f === from && e === event);
    if (allowed) {
      expect(nextState(from, event)).toBe(allowed[2]);
      expect(transition(from, event)).toBe(allowed[2]);
    } else {
      expect(nextState(from, event)).toBeNull();
      expect(() => transition(from, event)).toThrow(ExtensionError);
      try {
        transition(from, event);
      } catch (error) {
        expect(error).toMatchObject({ code: 'not_pending', message: `This action is already ${from}.` });
      }
    }
  });

  it('the end states are the log\'s terminal events, and no event leaves one', () => {
    expect([...TERMINAL_STATES].sort()).toEqual([...TERMINAL_EVENT_TYPES].sort());
    for (const end of TERMINAL_STATES) for (const event of ACTION_EVENTS) expect(nextState(end, event)).toBeNull();
  });

  it('only an approved action is released or refused: a release reported for a held one changes nothing', () => {
    expect(nextState('held', 'release')).toBeNull();
    expect(nextState('held', 'refuse')).toBeNull();
  });

  it('a navigation fails only what waits for approval: an approved action may be navigating as its own release', () => {
    expect(nextState('held', 'navigate')).toBe('failed');
    expect(nextState('approved', 'navigate')).toBeNull();
  });

  it('expiry ends a held action expired; an approval that ran out ends failed', () => {
    expect(nextState('held', 'expire')).toBe('expired');
    expect(nextState('approved', 'expire')).toBeNull();
    expect(nextState('approved', 'lapse')).toBe('failed');
    expect(nextState('held', 'lapse')).toBeNull();
  });

  it('held, awaiting and approved are the only states an action waits in: every other is an end', () => {
    expect(ACTION_STATES.filter((s) => !TERMINAL_STATES.includes(s))).toEqual(['held', 'awaiting', 'approved']);
  });

  it('the two-person rule: only the others\' approvals (quorum) release an awaiting action — its owner approving again, or the tab\'s report, cannot', () => {
    expect(nextState('awaiting', 'approve')).toBeNull();
    expect(nextState('awaiting', 'share')).toBeNull();
    expect(nextState('awaiting', 'release')).toBeNull();
    expect(nextState('awaiting', 'refuse')).toBeNull();
    expect(nextState('held', 'quorum')).toBeNull();
  });

  it('an awaiting action logs as approved (by its owner): the log\'s types stay the protocol\'s', () => {
    expect(logTypeOf('awaiting')).toBe('approved');
    for (const s of ACTION_STATES) expect(LogEventType.safeParse(logTypeOf(s)).success).toBe(true);
  });
});

describe('the tab\'s report as an event', () => {
  it.each([
    ['released', undefined, 'release'],
    ['released', 200, 'release'],
    ['released', 302, 'release'],
    ['released', 399, 'release'],
    ['released', 400, 'refuse'],
    ['released', 403, 'refuse'],
    ['released', 503, 'refuse'],
    ['failed', undefined, 'fail'],
    ['failed', 200, 'fail'],
    ['failed', 500, 'fail'],
  ] as const)('%s with status %s → %s', (outcome, status, event) => {
    expect(reportedEvent(outcome, status)).toBe(event);
  });

  it('a tool that refused the released request (HTTP ≥ 400) ends the approved action failed, never released', () => {
    expect(nextState('approved', reportedEvent('released', 401))).toBe('failed');
    expect(nextState('approved', reportedEvent('released', 201))).toBe('released');
  });
});
