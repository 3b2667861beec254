// What a verdict says in words: the badge's label, its details line (who wrote it, who approved it and
// when, or why it is not approved or its receipt is invalid), and the popup's row for the post (the
// agent and approver only when known, the start of the text on one line). Node only (tests).
import { describe, expect, it } from 'vitest';
import { LABELS, describe as describeVerdict, excerptOf, summaryRow } from '@/lib/content/badges/verdicts';

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

  it('an excerpt reads only the start of a long text, with the same result as collapsing the whole text', () => {
    const whole = (t: string) => t.replace(/\s+/g, ' ').trim().slice(0, 120);
    const texts = [`${'word '.repeat(100)}`, `${' '.repeat(300)}late start ${'y'.repeat(300)}`, `a${' '.repeat(239)}b${'c'.repeat(200)}`, `${'z'.repeat(119)}${' '.repeat(200)}end`, `${'q'.repeat(120)}\n\n${'r'.repeat(300)}`, `${'s'.repeat(121)}`, ''];
    for (const t of texts) expect(excerptOf(t)).toBe(whole(t));
  });
});
