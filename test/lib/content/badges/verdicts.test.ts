// What a verdict says in words: the badge's label, its details line (who wrote it, who approved it and
// when, or why it is not approved or its receipt is invalid), and the popup's row for the post (the
// agent and approver only when known, the start of the text on one line). Node only (tests).
import { describe, expect, it } from 'vitest';
import { LABELS, describe as describeVerdict, summaryRow } from '@/lib/content/badges/verdicts';

describe('verdict words', () => {
  it('a label for each badge', () => {
    expect(LABELS).toEqual({ verified: 'AI · approved', 'unverified-ai': 'AI · not approved', invalid: 'AI · receipt invalid' });
  });

  it('the details line', () => {
    expect(describeVerdict({ state: 'verified', agent: 'agent:forum-helper', approver: 'alice', time: 1_700_000_000, checks: [] })).toBe('Written by agent:forum-helper, approved by alice at 2023-11-14T22:13:20.000Z.');
    expect(describeVerdict({ state: 'unverified-ai', reason: 'no receipt', checks: [] })).toBe('Written by an assistant; no receipt.');
    expect(describeVerdict({ state: 'invalid', reason: 'signature does not verify', checks: [] })).toBe('Receipt invalid: signature does not verify.');
  });

  it('the popup\'s row: agent and approver only when known, the text on one line and at most 120 characters', () => {
    const long = `  Rotate\n\nthe   keys.\t${'x'.repeat(200)}`;
    expect(summaryRow({ state: 'verified', agent: 'agent:a', approver: 'alice', checks: [] }, 'forum-helper', long)).toEqual({ state: 'verified', author: 'forum-helper', agent: 'agent:a', approver: 'alice', excerpt: `Rotate the keys. ${'x'.repeat(103)}` });
    const row = summaryRow({ state: 'unverified-ai', checks: [] }, 'bob', 'hi');
    expect(row).toEqual({ state: 'unverified-ai', author: 'bob', excerpt: 'hi' });
    expect(Object.keys(row)).not.toContain('agent');
  });
});
