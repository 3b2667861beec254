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

/** Characters of a post's text read for its excerpt at first: enough for 120 after collapsing, unless the text is mostly white space. */
const EXCERPT_READ = 240;

/**
 * The first 120 characters of the text on one line (white space runs collapsed, trimmed), reading only
 * the start of a long text: the popup's rows are made for every badge of a page.
 */
export function excerptOf(content: string): string {
  if (content.length > EXCERPT_READ) {
    // Exact: once the start alone collapses to more than 120 characters, the rest cannot change them.
    const start = content.slice(0, EXCERPT_READ).replace(/\s+/g, ' ').trimStart();
    if (start.length > 120) return start.slice(0, 120);
  }
  return content.replace(/\s+/g, ' ').trim().slice(0, 120);
}

/** The popup's row for a post with a badge (a verdict not 'none'): its verdict, who wrote and approved it, the start of its text on one line. */
export function summaryRow(verdict: Verdict, author: string, content: string): PageSummaryInput['posts'][number] {
  return {
    state: verdict.state as Drawn,
    author,
    ...(verdict.agent ? { agent: verdict.agent } : {}),
    ...(verdict.approver ? { approver: verdict.approver } : {}),
    excerpt: excerptOf(content),
  };
}
