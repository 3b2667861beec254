// What the owner is about to sign, shown from the background's stored record: a post as text with a
// word diff and everything else the body carries, or a config change field by field, before → after.
// A repeated field shows every value, in the order the tool receives them. Bodies are read with the
// protocol's one reader (lib/shared/request-body.ts). Rendered as text only (E-06).
// Extension page only.
import { diffWords } from 'diff';
import { otherFields } from '@/lib/shared/request-body';
import type { Diff } from '@/lib/protocol';

/** Makes bidirectional-override and other invisible control characters visible instead of obeyed (E-06). */
export function reveal(text: string): string {
  return text.replace(/[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2028\u2029]/g, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  return reveal(typeof value === 'string' ? value : JSON.stringify(value));
}

/** A field's label: its name, and for a repeated field which of its values this is ("tag (2 of 3)"). */
function labels(names: string[]): string[] {
  const total = new Map<string, number>();
  for (const n of names) total.set(n, (total.get(n) ?? 0) + 1);
  const seen = new Map<string, number>();
  return names.map((n) => {
    const i = (seen.get(n) ?? 0) + 1;
    seen.set(n, i);
    return total.get(n)! > 1 ? `${reveal(n)} (${i} of ${total.get(n)})` : reveal(n);
  });
}

export function ActionDiff({ diff, body, contentType, contentField }: { diff: Diff | null; body: string | null; contentType: string | null; contentField?: string }) {
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
    const others = otherFields(contentType, body, diff.after, contentField);
    const otherLabels = labels(others.map(([name]) => name));
    return (
      <>
        <p className="post-diff" aria-label="Post text">
          {parts.map((part, i) =>
            part.added ? <ins key={i}>{reveal(part.value)}</ins> : part.removed ? <del key={i}>{reveal(part.value)}</del> : <span key={i}>{reveal(part.value)}</span>,
          )}
        </p>
        {others.length > 0 && (
          <dl className="other-fields" aria-label="Also in the request">
            {others.map(([, value], i) => (
              <div key={i}>
                <dt>{otherLabels[i]}</dt>
                <dd>{show(value)}</dd>
              </div>
            ))}
          </dl>
        )}
      </>
    );
  }
  const rowLabels = labels(diff.fields.map((f) => f.name));
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
        {diff.fields.map((f, i) => {
          const changed = JSON.stringify(f.before) !== JSON.stringify(f.after);
          return (
            <tr key={i} className={changed ? 'changed' : undefined}>
              <th scope="row">{rowLabels[i]}</th>
              <td>{show(f.before)}</td>
              <td>{changed ? <strong>{show(f.after)}</strong> : show(f.after)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
