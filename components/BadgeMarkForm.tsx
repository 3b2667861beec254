// The secret mark genuine badges carry: a page cannot know it, so a fake badge lacks it. Extension page only.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { ask } from '@/lib/extension/client';

export function BadgeMarkForm() {
  const [mark, setMark] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    await ask('ui-bg:save-settings', { badgeMark: mark });
    setSaved(`Badges now show ${mark}.`);
  }
  return (
    <section aria-labelledby="mark-title">
      <h2 id="mark-title">Badge mark</h2>
      <p className="hint">Real provenance badges show this mark; pick something only you would recognise.</p>
      <form onSubmit={submit}>
        <label>
          Badge mark
          <input value={mark} onChange={(e) => setMark(e.target.value)} maxLength={16} required />
        </label>
        <button type="submit">Save mark</button>
        {saved && <p role="status">{saved}</p>}
      </form>
    </section>
  );
}
