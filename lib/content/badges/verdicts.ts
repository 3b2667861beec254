// What a post's verdict says in words: the badge's label, its details line, and the popup's row for
// the post. Runtime-neutral, pure.
import type { PageSummaryInput, Verdict } from '../../messaging/contract';

export type Drawn = Exclude<Verdict['state'], 'none'>;

export const LABELS: Record<Drawn, string> = {
  verified: 'AI · approved',
  'unverified-ai': 'AI · not approved',
  invalid: 'AI · receipt invalid',
};

export function describe(v: Verdict): string {
  if (v.state === 'verified') return `Written by ${v.agent}, approved by ${v.approver} at ${new Date((v.time ?? 0) * 1000).toISOString()}.`;
  if (v.state === 'unverified-ai') return `Written by an assistant; ${v.reason}.`;
  return `Receipt invalid: ${v.reason}.`;
}

/** The popup's row for a post with a badge (a verdict not 'none'): its verdict, who wrote and approved it, the start of its text on one line. */
export function summaryRow(verdict: Verdict, author: string, content: string): PageSummaryInput['posts'][number] {
  return {
    state: verdict.state as Drawn,
    author,
    ...(verdict.agent ? { agent: verdict.agent } : {}),
    ...(verdict.approver ? { approver: verdict.approver } : {}),
    excerpt: content.replace(/\s+/g, ' ').trim().slice(0, 120),
  };
}
