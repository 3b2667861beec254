// What the owner reviews for a held request: the post's text where the adapter action says, and a
// diff (the text, or a config change's fields before → after, its "before" read in the user's own
// session, or from the form as the page loaded). Isolated content script only: reads the page's
// document and fetches on its origin.
import type { Diff, SiteAdapter } from '../../protocol';
import { fillPathTemplate } from '../../protocol/path-pattern';
import { findAction } from '../../policy/adapter-actions';
import { bodyPairs, fieldRows, postText } from '../../shared/request-body';
import type { Json } from '../../shared/request-body';
import type { HookToBridge } from '../channel';
import { formPairs } from './form-snapshot';
import type { FormPairs } from './form-snapshot';

type Pairs = Array<[string, Json]>;
type Before = NonNullable<SiteAdapter['actions'][number]['before']>;

/** A form's values as the page loaded (form-snapshot.ts), or null when it has none. */
export type FormAtLoad = (form: HTMLFormElement) => FormPairs | null;

/** The form an adapter's `before: {form}` names, as the page loaded (else as it is now: a form added later has no snapshot). */
function formBefore(selector: string, atLoad: FormAtLoad): FormPairs {
  const form = document.querySelector<HTMLFormElement>(selector);
  return form ? (atLoad(form) ?? formPairs(form)) : [];
}

/** The current state a config change starts from, read through the adapter in the user's own session, or from the form at page load. */
async function beforePairs(before: Before, captures: string[], atLoad: FormAtLoad): Promise<Pairs> {
  if ('get' in before) {
    const res = await fetch(new URL(fillPathTemplate(before.get, captures), location.href), { credentials: 'same-origin', headers: { accept: 'application/json' } }).catch(() => null);
    const value: unknown = res?.ok ? await res.json().catch(() => null) : null;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (Object.entries(value) as Pairs) : [];
  }
  // Every value of a repeated field, in order: the diff shows each beside the value it becomes.
  return formBefore(before.form, atLoad);
}

/** A post's text before the edit: its content field in the adapter's `before` form at page load (an edit form holds the current text), else none. */
function textBefore(before: Before | undefined, field: string, atLoad: FormAtLoad): string | null {
  if (!before || !('form' in before)) return null;
  return formBefore(before.form, atLoad).find(([name]) => name === field)?.[1] ?? null;
}

export type Proposed = Extract<HookToBridge, { t: 'propose' }>;

/**
 * What the owner reviews: the post's text where the adapter action says (a field name or a JSON
 * pointer), and a diff — the text, or a config's fields before → after. Which action the request is,
 * is read from the request with the background's matcher; the background decides it again and checks
 * text and diff against the body (proposal-check.ts). An ambiguous text (a repeated form field) is
 * left out: the background then refuses the proposal.
 */
export async function review(adapter: SiteAdapter | null, proposal: Proposed, atLoad: FormAtLoad = () => null): Promise<{ content: string | null; diff: Diff | null }> {
  const { method, url, contentType, body } = proposal.request;
  const found = adapter ? findAction(adapter.actions, method, new URL(url)) : null;
  let content: string | null = null;
  try {
    content = found?.action.content ? postText(contentType, body, found.action.content) : null;
  } catch {
    return { content: null, diff: null };
  }
  const before = found?.action.before;
  if (content !== null) return { content, diff: { kind: 'text', before: textBefore(before, found!.action.content!, atLoad), after: content } };
  const after = body === null ? null : bodyPairs(contentType, body);
  if (!found || !before || !after) return { content, diff: null };
  const diff: Diff = { kind: 'fields', fields: fieldRows(await beforePairs(before, found.captures, atLoad).catch(() => []), after) };
  return { content, diff };
}
