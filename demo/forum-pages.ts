// Intraforum's server-rendered pages: topic list, a topic with its replies (each carrying its
// provenance receipt), the reply form, the "Ask the assistant" widget, and the author list. Node only.
import type { SafeHtml } from './html';
import { attr, html } from './html';
import type { SiteInfo } from './layout';
import { renderPage } from './layout';
import type { DemoUser, Reply, Topic, TopicSummary } from './store';

export const FORUM_SITE: SiteInfo = {
  name: 'Intraforum',
  nav: [
    { href: '/', label: 'Topics' },
    { href: '/authors', label: 'Authors' },
  ],
};

/** The account every assistant-written post appears under (see /authors). */
export const ASSISTANT_ACCOUNT = 'assistant';

function time(ms: number): SafeHtml {
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/**
 * One reply. `.post-body` holds exactly the stored text (escaped), nothing else: readers'
 * extensions hash its text against the receipt's `cdg`.
 */
export function renderPost(reply: Reply, users: readonly DemoUser[]): SafeHtml {
  const assistantName = users.find((u) => u.id === ASSISTANT_ACCOUNT)?.name ?? ASSISTANT_ACCOUNT;
  // `.author` holds the account id (what policy's assistantAccounts lists); the name is beside it.
  const author =
    reply.kind === 'assistant'
      ? html`<span class="author">${ASSISTANT_ACCOUNT}</span> <span class="author-name">${assistantName}</span> <span class="via">${reply.author.startsWith('agent:') ? reply.author : `in ${reply.author}'s session`}</span>`
      : html`<span class="author">${reply.author}</span>`;
  return html`<article class="post" id="post-${reply.id}"${attr('data-countersign-receipt', reply.receipt)}>
<header>${author} ${time(reply.createdAt)}</header>
<div class="post-body">${reply.body}</div>
</article>
`;
}

export function renderTopicList(topics: TopicSummary[], who: string): string {
  const main = html`<h1>Topics</h1>
<ul class="topics">
${topics.map((t) => html`<li><a href="/t/${t.id}">${t.title}</a> <span class="count">${t.replyCount} ${t.replyCount === 1 ? 'reply' : 'replies'}</span></li>\n`)}</ul>`;
  return renderPage({ site: FORUM_SITE, title: 'Topics', who, main });
}

export function renderTopic(topic: Topic, replies: Reply[], users: readonly DemoUser[], who: string): string {
  const main = html`<h1>${topic.title}</h1>
<section aria-labelledby="replies-heading">
<h2 id="replies-heading">Replies</h2>
<div class="posts" data-posts>
${replies.map((r) => renderPost(r, users))}</div>
</section>
<section class="reply-box" aria-labelledby="reply-heading">
<h2 id="reply-heading">Your reply</h2>
<form class="reply" method="post" action="/api/topics/${topic.id}/replies">
<label for="reply-body">Reply</label>
<textarea id="reply-body" name="body" rows="4" maxlength="10000" required></textarea>
<button type="submit">Post reply</button>
</form>
</section>
<section class="assistant" aria-labelledby="assistant-heading" data-assistant-widget data-topic-id="${topic.id}">
<h2 id="assistant-heading">Ask the assistant</h2>
<p>The forum assistant drafts an answer and posts it in your name by itself. Without Countersign's
approval the forum refuses it.</p>
<label for="assistant-draft">The assistant's draft</label>
<textarea id="assistant-draft" rows="4" readonly data-assistant-draft placeholder="The assistant's answer appears here."></textarea>
<button type="button" data-ask>Ask the assistant</button>
<p class="status" role="status" data-assistant-status></p>
</section>`;
  return renderPage({ site: FORUM_SITE, title: topic.title, who, main, script: 'forum.js' });
}

export function renderAuthors(users: readonly DemoUser[], who: string): string {
  const main = html`<h1>Authors</h1>
<p>People post in their own session. Everything an assistant writes appears under the assistant account.</p>
<table class="authors">
<caption>Accounts on Intraforum</caption>
<thead><tr><th scope="col">Account</th><th scope="col">Name</th><th scope="col">Kind</th></tr></thead>
<tbody>
${users.map((u) => html`<tr data-account="${u.id}"><td><code>${u.id}</code></td><td>${u.name}</td><td>${u.kind === 'assistant' ? 'assistant (AI)' : 'person'}</td></tr>\n`)}</tbody>
</table>`;
  return renderPage({ site: FORUM_SITE, title: 'Authors', who, main });
}
