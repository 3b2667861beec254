// The built-in site adapters for the demo tools, shipped with the extension as policy. Runtime-neutral.
// They follow DESIGN.md's example adapter field for field (an absent field, never null); the demo's
// tests hold them to the tools' real routes and markup (test/demo/adapters.test.ts).
import type { SiteAdapter } from '../protocol';

/** The demo tools' assistant markers; a fresh copy per adapter, so no adapter shares another's arrays. */
function assistantMarkers(): NonNullable<SiteAdapter['assistant']> {
  return { selectors: ['[data-assistant-draft]'], headers: ['X-Assistant'], fields: { author_kind: 'assistant' } };
}

export const BUILTIN_ADAPTERS: SiteAdapter[] = [
  {
    // Intraforum: match patterns carry no port, so this is 127.0.0.1 on any port (Chrome).
    id: 'intraforum',
    match: ['http://127.0.0.1/*'],
    agent: 'agent:forum-helper',
    actions: [
      {
        scope: 'forum.post',
        request: { method: 'POST', url: '/api/topics/*/replies' },
        form: 'form.reply',
        content: 'body',
      },
    ],
    assistant: assistantMarkers(),
    posts: { container: 'article.post', author: '.author', body: '.post-body', receipt: 'data-countersign-receipt' },
  },
  {
    // The Access console is published on `localhost` so that its pattern differs from the forum's.
    id: 'access-console',
    match: ['http://localhost/*'],
    agent: 'agent:access-helper',
    actions: [
      {
        scope: 'admin.acl.write',
        // Widening who can read data needs a signed, reviewed approval from people too.
        requires: 'always',
        request: { method: 'PUT', url: '/api/datasets/*/access' },
        form: 'form#access',
        before: { get: '/api/datasets/{1}/access' },
      },
    ],
    assistant: assistantMarkers(),
  },
];
