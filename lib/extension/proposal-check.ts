// A proposal must agree with itself: the post text and the diff the owner reviews are read again from
// the request body the token will be bound to, so a page that forges or rewrites its channel messages
// cannot show one text and hold another (E-05). Every value of a repeated field is compared, in order.
// A text diff's "before" is the page's to give only where the adapter reads one (`before`, e.g. a wiki's
// edit form as it loaded); elsewhere it would pass a new post off as a small edit. Runtime-neutral, pure.
import type { AdapterAction } from '../protocol';
import type { ProposalInput } from '../messaging/contract';
import { bodyPairs, postText } from '../shared/request-body';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Why a proposal's text or diff is not what its request body says, or null when they agree. `action`
 * is the adapter action the background found for the request (null for the generic adapter).
 */
export function proposalMismatch(input: Pick<ProposalInput, 'request' | 'content' | 'diff'>, action: Pick<AdapterAction, 'content' | 'before'> | null): string | null {
  const { contentType, body } = input.request;
  let content: string | null = null;
  if (action?.content) {
    try {
      content = postText(contentType, body, action.content);
    } catch (error) {
      return `the post text is ambiguous: ${(error as Error).message}`;
    }
  }
  if (input.content !== content) return 'the post text is not the one in the request body';
  const diff = input.diff;
  if (!diff) return null;
  if (diff.kind === 'text') {
    if (content === null || diff.after !== content) return 'the text shown for review is not the one in the request body';
    return diff.before === null || action?.before ? null : 'the text shown for review has a "before" that this site\'s adapter does not read';
  }
  const sent = bodyPairs(contentType, body);
  if (!sent) return 'a field-by-field diff needs a JSON object or form body';
  const names = new Set(diff.fields.map((f) => f.name));
  for (const [name] of sent) if (!names.has(name)) return `the diff leaves out the field ${name}`;
  for (const name of names) {
    const shown = diff.fields.filter((f) => f.name === name).map((f) => f.after);
    const values = sent.filter(([n]) => n === name).map(([, v]) => v);
    if (shown.length < values.length) return `the diff leaves out a value of the field ${name}`;
    for (let i = 0; i < shown.length; i++) {
      // Rows past the body's values are the before side's extra values: nothing after.
      if (i >= values.length) {
        if (shown[i] !== null) return `the diff names the field ${name} more times than the request body has it`;
      } else if (!same(shown[i], values[i])) return `the diff shows another value for ${name} than the request body`;
    }
  }
  return null;
}
