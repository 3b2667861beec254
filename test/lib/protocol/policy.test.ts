// Admin policy and site adapters: schema, and per-adapter validation of the `adapters` string.
import { describe, expect, it } from 'vitest';
import { AdminPolicy, MatchPattern, parseAdapters } from '@/lib/protocol/policy';

const forum = {
  id: 'intraforum',
  match: ['http://127.0.0.1/*'],
  actions: [
    { scope: 'forum.post', request: { method: 'POST', url: '/api/topics/*/replies' }, form: 'form.reply', content: 'body' },
    { scope: 'admin.acl.write', request: { method: 'PUT', url: '/api/datasets/*/access' }, form: 'form#access', before: { get: '/api/datasets/{1}/access' } },
  ],
  assistant: { selectors: ['[data-assistant-draft]'], headers: ['X-Assistant'], fields: { author_kind: 'assistant' } },
  posts: { container: 'article.post', author: '.author', body: '.post-body', receipt: 'data-countersign-receipt' },
};
const consoleAdapter = { id: 'access-console', match: ['http://localhost/*'], actions: [] };

describe('admin policy', () => {
  it('accepts DESIGN.md\'s keys', () => {
    const policy = {
      verifierUrl: 'http://127.0.0.1:8787',
      protectedSites: ['http://127.0.0.1/*'],
      blockedSites: ['https://payroll.corp.example/*'],
      assistantAccounts: ['assistant'],
      approvalTtlSeconds: 120,
      killSwitch: false,
      strictMode: true,
      adapters: JSON.stringify([forum]),
    };
    expect(AdminPolicy.parse(policy)).toEqual(policy);
  });

  it.each([
    ['a TTL over 600 s', { approvalTtlSeconds: 601 }],
    ['a verifier URL that is not http(s)', { verifierUrl: 'javascript:alert(1)' }],
    ['adapters as an array instead of a string', { adapters: [forum] }],
    ['an unknown key', { autoApprove: true }],
    ['a bad match pattern', { protectedSites: ['forum.corp.example'] }],
  ])('refuses %s', (_name, policy) => {
    expect(AdminPolicy.safeParse(policy).success).toBe(false);
  });

  it.each(['<all_urls>', 'https://*.corp.example/*', 'http://127.0.0.1/*', 'http://localhost:8080/api/*', '*://forum.corp.example/*'])(
    'match pattern %s is valid',
    (p) => expect(MatchPattern.safeParse(p).success).toBe(true),
  );
});

describe('parseAdapters', () => {
  it('parses DESIGN.md\'s example adapter', () => {
    const { adapters, problems } = parseAdapters(JSON.stringify([forum, consoleAdapter]));
    expect(problems).toEqual([]);
    expect(adapters.map((a) => a.id)).toEqual(['intraforum', 'access-console']);
  });

  it('a malformed string is one problem and no adapters', () => {
    const result = parseAdapters('[{"id": "intraforum",');
    expect(result.adapters).toEqual([]);
    expect(result.problems).toEqual([expect.objectContaining({ field: 'adapters', id: null })]);
  });

  it('a string that is not an array is one problem', () => {
    expect(parseAdapters('{"id":"x"}').problems[0]).toMatchObject({ field: 'adapters', message: 'adapters must be a JSON array' });
  });

  it('one bad adapter among good ones is reported by id and field; the others still apply', () => {
    const bad = { ...forum, id: 'broken-tool', match: ['https://broken.corp.example/*'], posts: { ...forum.posts, author: null } };
    const result = parseAdapters(JSON.stringify([forum, bad, consoleAdapter]));
    expect(result.adapters.map((a) => a.id)).toEqual(['intraforum', 'access-console']);
    expect(result.problems).toEqual([{ index: 1, id: 'broken-tool', field: 'posts.author', message: expect.any(String) }]);
    expect(result.failClosed).toEqual(['https://broken.corp.example/*']);
  });

  it('a tool that cannot render receipts: `posts` without a receipt attribute (and without an author) parses; readers look receipts up', () => {
    const wiki = { id: 'wiki', match: ['http://wiki.corp:8090/*'], actions: [], posts: { container: '.mw-parser-output', body: '.mw-parser-output' } };
    expect(parseAdapters(JSON.stringify([wiki]))).toMatchObject({ adapters: [wiki], problems: [] });
    // Left out, never null; and a receipt attribute that is named is still a data-* one.
    for (const posts of [{ ...wiki.posts, receipt: null }, { ...wiki.posts, receipt: 'onclick' }]) {
      expect(parseAdapters(JSON.stringify([{ ...wiki, posts }])).problems).toEqual([{ index: 0, id: 'wiki', field: 'posts.receipt', message: expect.any(String) }]);
    }
  });

  it('a duplicate adapter id is a problem, and the first one wins', () => {
    const result = parseAdapters(JSON.stringify([forum, { ...forum, match: ['https://x.example/*'] }]));
    expect(result.adapters).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ index: 1, id: 'intraforum', field: 'id' });
  });

  it('an adapter with no id is reported by its index', () => {
    const { problems } = parseAdapters(JSON.stringify([{ match: ['http://x/*'], actions: [] }]));
    expect(problems[0]).toMatchObject({ index: 0, id: null, field: 'id' });
  });
});
