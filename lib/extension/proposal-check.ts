// A proposal must agree with itself: the post text and the diff the owner reviews are read again from
// the request body the token will be bound to, so a page that forges or rewrites its channel messages
// cannot show one text and hold another (E-05). Runtime-neutral, pure.
import type { AdapterAction } from '../protocol';
import type { ProposalInput } from './messages';
import { afterSide, bodyFields } from './request-body';

/**
 * Why a proposal's text or diff is not what its request body says, or null when they agree. `action`
 * is the adapter action the proposal names (undefined for the generic adapter).
 */
export function proposalMismatch(input: Pick<ProposalInput, 'request' | 'content' | 'diff'>, action: Pick<AdapterAction, 'content'> | undefined): string | null {
  const { contentType, body } = input.request;
  const content = action?.content ? (bodyFields(contentType, body).get(action.content.replace(/^\//, '')) ?? null) : null;
  if (input.content !== content) return 'the post text is not the one in the request body';
  const diff = input.diff;
  if (!diff) return null;
  if (diff.kind === 'text') return content !== null && diff.after === content && diff.before === null ? null : 'the text shown for review is not the one in the request body';
  const after = body === null ? null : afterSide(contentType, body);
  if (!after) return 'a field-by-field diff needs a JSON object or form body';
  const shown = new Map(diff.fields.map((f) => [f.name, f.after]));
  if (shown.size !== diff.fields.length) return 'the diff names a field twice';
  for (const name of Object.keys(after)) if (!shown.has(name)) return `the diff leaves out the field ${name}`;
  for (const [name, value] of shown) if (JSON.stringify(value) !== JSON.stringify(after[name] ?? null)) return `the diff shows another value for ${name} than the request body`;
  return null;
}
