// The secret mark genuine badges carry: a page cannot know it, so a fake badge lacks it. By default a
// random pattern made for this install; the person may choose a text instead. Extension page only.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { ask } from '@/lib/messaging/client';
import { markPattern, patternSvg } from '@/lib/shared/mark-pattern';
import type { BadgeMark } from '@/lib/shared/mark-pattern';

/** The mark as badges draw it: the same SVG for a pattern, the text for a chosen one. */
function MarkPreview({ mark }: { mark: BadgeMark }) {
  if (mark.kind === 'text') return <strong>{mark.text}</strong>;
  return <span role="img" aria-label="your random pattern" ref={(el) => el?.replaceChildren(patternSvg(document, markPattern(mark.seed)))} />;
}

export function BadgeMarkForm({ mark, onChanged }: { mark: BadgeMark; onChanged(): void }) {
  const [text, setText] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    await ask('ui-bg:save-settings', { badgeMark: text });
    setSaved(`Badges now show ${text}.`);
    onChanged();
  }
  async function newPattern() {
    await ask('ui-bg:save-settings', { newBadgePattern: true });
    setSaved('Badges now show a new random pattern.');
    onChanged();
  }
  return (
    <section aria-labelledby="mark-title">
      <h2 id="mark-title">Badge mark</h2>
      <p className="hint">Real provenance badges show this mark; a page cannot read it, so a fake badge lacks it. Learn it, or pick something only you would recognise.</p>
      <p data-testid="badge-mark" data-mark-kind={mark.kind}>
        Your badges show: <MarkPreview mark={mark} />
      </p>
      <form onSubmit={submit}>
        <label>
          Badge mark
          <input value={text} onChange={(e) => setText(e.target.value)} maxLength={16} required />
        </label>
        <button type="submit">Save mark</button>
        <button type="button" onClick={() => void newPattern()}>
          New random pattern
        </button>
        {saved && <p role="status">{saved}</p>}
      </form>
    </section>
  );
}
