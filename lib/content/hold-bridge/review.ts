// What the owner reviews for a held request: the post's text where the adapter action says, and a
// diff (the text, or a config change's fields before → after, its "before" read in the user's own
// session). Isolated content script only: reads the page's document and fetches on its origin.
import type { Diff, SiteAdapter } from '../../protocol';
import { fillPathTemplate } from '../../protocol/path-pattern';
import { findAction } from '../../policy/adapter-actions';
import { bodyPairs, fieldRows, postText } from '../../shared/request-body';
import type { Json } from '../../shared/request-body';
import type { HookToBridge } from '../channel';

type Pairs = Array<[string, Json]>;

/** The current state a config change starts from, read through the adapter in the user's own session. */
async function beforePairs(before: NonNullable<SiteAdapter['actions'][number]['before']>, captures: string[]): Promise<Pairs> {
  if ('get' in before) {
    const res = await fetch(new URL(fillPathTemplate(before.get, captures), location.href), { credentials: 'same-origin', headers: { accept: 'application/json' } }).catch(() => null);
    const value: unknown = res?.ok ? await res.json().catch(() => null) : null;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (Object.entries(value) as Pairs) : [];
  }
  const form = document.querySelector<HTMLFormElement>(before.form);
  // Every value of a repeated field, in order: the diff shows each beside the value it becomes.
  return form ? ([...new FormData(form)].filter(([, v]) => typeof v === 'string') as Pairs) : [];
}

export type Proposed = Extract<HookToBridge, { t: 'propose' }>;

/**
 * What the owner reviews: the post's text where the adapter action says (a field name or a JSON
 * pointer), and a diff — the text, or a config's fields before → after. Which action the request is,
 * is read from the request with the background's matcher; the background decides it again and checks
 * text and diff against the body (proposal-check.ts). An ambiguous text (a repeated form field) is
 * left out: the background then refuses the proposal.
 */
export async function review(adapter: SiteAdapter | null, proposal: Proposed): Promise<{ content: string | null; diff: Diff | null }> {
  const { method, url, contentType, body } = proposal.request;
  const found = adapter ? findAction(adapter.actions, method, new URL(url)) : null;
  let content: string | null = null;
  try {
    content = found?.action.content ? postText(contentType, body, found.action.content) : null;
  } catch {
    return { content: null, diff: null };
  }
  if (content !== null) return { content, diff: { kind: 'text', before: null, after: content } };
  const before = found?.action.before;
  const after = body === null ? null : bodyPairs(contentType, body);
  if (!found || !before || !after) return { content, diff: null };
  const diff: Diff = { kind: 'fields', fields: fieldRows(await beforePairs(before, found.captures).catch(() => []), after) };
  return { content, diff };
}
