// The demo tools' site adapters, pushed as admin policy (`adapters`, a JSON string) by `npm start`,
// the browser tests and the bench, exactly as an admin pushes an adapter for any other tool: the
// extension ships none, so a fresh install protects nothing it was not told to. Each `match` names its
// tool's origin with its port, so an adapter claims that one tool and no other service on the same
// host (the verifier on 127.0.0.1, a developer's other servers on localhost). The demo's tests hold
// them to the tools' routes and markup (test/demo/adapters.test.ts). Runtime-neutral, pure data.
import type { SiteAdapter } from '../lib/protocol';

/** Where `npm start` serves the tools (FORUM_PORT, CONSOLE_PORT change the ports). */
export const DEMO_ORIGINS = { forum: 'http://127.0.0.1:8080', console: 'http://localhost:8081' } as const;

export interface DemoOrigins {
  forum: string;
  console: string;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/**
 * The match pattern of exactly one origin, its port always named (`http://127.0.0.1:8080/*`): a pattern
 * without a port would match every port of the host (Chrome's rule).
 */
export function originPattern(origin: string): string {
  const url = new URL(origin);
  const port = url.port || DEFAULT_PORTS[url.protocol];
  if (!port || url.origin !== origin.replace(/\/$/, '')) throw new TypeError(`originPattern needs an http(s) origin, got ${origin}`);
  return `${url.protocol}//${url.hostname}:${port}/*`;
}

/** The demo tools' assistant markers; a fresh copy per adapter, so no adapter shares another's arrays. */
function assistantMarkers(): NonNullable<SiteAdapter['assistant']> {
  return { selectors: ['[data-assistant-draft]'], headers: ['X-Assistant'], fields: { author_kind: 'assistant' } };
}

/** Intraforum: replies are posts, their text in `body`; readers' badges go on its articles. */
export function forumAdapter(origin: string = DEMO_ORIGINS.forum): SiteAdapter {
  return {
    id: 'intraforum',
    match: [originPattern(origin)],
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
  };
}

/** The Access console: a dataset's access is a config change, reviewed field by field. */
export function consoleAdapter(origin: string = DEMO_ORIGINS.console): SiteAdapter {
  return {
    id: 'access-console',
    match: [originPattern(origin)],
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
  };
}

export function demoAdapters(origins: DemoOrigins = DEMO_ORIGINS): SiteAdapter[] {
  return [forumAdapter(origins.forum), consoleAdapter(origins.console)];
}

/** The admin policy that protects the demo tools, and only them: their origins and their adapters. */
export function demoSitePolicy(origins: DemoOrigins = DEMO_ORIGINS): { protectedSites: string[]; adapters: string } {
  return { protectedSites: [originPattern(origins.forum), originPattern(origins.console)], adapters: JSON.stringify(demoAdapters(origins)) };
}
