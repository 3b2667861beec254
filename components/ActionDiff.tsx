// What the owner is about to sign, shown from the background's stored record: a post as text with a
// word diff, or a config change field by field, before → after. Rendered as text only (E-06).
// Extension page only.
import { diffWords } from 'diff';
import { otherFields } from '@/lib/extension/request-body';
import type { Diff } from '@/lib/protocol';

/** Makes bidirectional-override and other invisible control characters visible instead of obeyed (E-06). */
export function reveal(text: string): string {
  return text.replace(/[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2028\u2029]/g, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  return reveal(typeof value === 'string' ? value : JSON.stringify(value));
}

export function ActionDiff({ diff, body, contentType }: { diff: Diff | null; body: string | null; contentType: string | null }) {
  if (!diff) {
    return (
      <pre className="raw" aria-label="Request body">
        {body === null ? '(no body)' : reveal(body)}
      </pre>
    );
  }
  if (diff.kind === 'text') {
    const parts = diffWords(diff.before ?? '', diff.after);
    // Whatever else the signed request carries is shown too: the owner signs the whole body, not just its text.
    const others = otherFields(contentType, body, diff.after);
    return (
      <>
        <p className="post-diff" aria-label="Post text">
          {parts.map((part, i) =>
            part.added ? <ins key={i}>{reveal(part.value)}</ins> : part.removed ? <del key={i}>{reveal(part.value)}</del> : <span key={i}>{reveal(part.value)}</span>,
          )}
        </p>
        {others.length > 0 && (
          <dl className="other-fields" aria-label="Also in the request">
            {others.map(([name, value], i) => (
              <div key={i}>
                <dt>{reveal(name)}</dt>
                <dd>{show(value)}</dd>
              </div>
            ))}
          </dl>
        )}
      </>
    );
  }
  return (
    <table aria-label="Changes">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {diff.fields.map((f) => {
          const changed = JSON.stringify(f.before) !== JSON.stringify(f.after);
          return (
            <tr key={f.name} className={changed ? 'changed' : undefined}>
              <th scope="row">{reveal(f.name)}</th>
              <td>{show(f.before)}</td>
              <td>{changed ? <strong>{show(f.after)}</strong> : show(f.after)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
