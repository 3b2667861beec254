// The popup's list of the current page's AI posts and their verdicts, from the badge script's report
// to the background (a page cannot draw into the popup). Extension page only.
import { useEffect, useState } from 'react';
import { ask } from '@/lib/messaging/client';
import type { PageSummaryInput } from '@/lib/messaging/contract';

const LABEL = { verified: 'verified', 'unverified-ai': 'unverified AI', invalid: 'invalid' } as const;

export function PagePosts() {
  const [posts, setPosts] = useState<PageSummaryInput['posts']>([]);
  useEffect(() => {
    ask('ui-bg:page-posts', {}).then((summary) => setPosts(summary.posts), () => setPosts([]));
  }, []);
  if (!posts.length) return null;
  return (
    <section aria-labelledby="page-posts-title">
      <h2 id="page-posts-title">AI posts on this page</h2>
      <ul aria-label="AI posts on this page" className="page-posts">
        {posts.map((p, i) => (
          <li key={i} aria-label={`${LABEL[p.state]}: ${p.excerpt.slice(0, 40)}`} data-state={p.state}>
            <strong>{LABEL[p.state]}</strong> {p.agent ? `${p.agent}, approved by ${p.approver}` : p.author}: <q>{p.excerpt}</q>
          </li>
        ))}
      </ul>
    </section>
  );
}
