// A proposal's text and diff must be what its request body says (E-05): a page that rewrites the
// channel message to show the owner one text while holding another is refused before anything is
// stored. The text is read where the action says (a field name or a JSON pointer) with the protocol's
// reader; every value of a repeated field is compared, in order. The browser-level attack is in
// test/security/browser/hostile-pages.test.ts.
import { describe, expect, it } from 'vitest';
import { proposalMismatch } from '@/lib/extension/proposal-check';
import type { ProposalInput } from '@/lib/messaging/contract';

const URL_ = 'http://127.0.0.1:8080/api/topics/1/replies';
const post = (body: string, content: string | null, diff: ProposalInput['diff'] = content === null ? null : { kind: 'text', before: null, after: content }) => ({
  request: { method: 'POST', url: URL_, contentType: 'application/json', body },
  content,
  diff,
});
const forumAction = { content: 'body' };
const acl = (body: string, diff: ProposalInput['diff']) => ({ request: { method: 'PUT', url: 'http://localhost:8081/api/datasets/payroll-2026/access', contentType: 'application/json', body }, content: null, diff });

describe('a proposal that agrees with its body', () => {
  it('a JSON post whose text is its body field passes', () => {
    expect(proposalMismatch(post('{"body":"hello","author_kind":"assistant"}', 'hello'), forumAction)).toBeNull();
  });

  it('a form post whose text is its body field passes', () => {
    const input = { request: { method: 'POST', url: URL_, contentType: 'application/x-www-form-urlencoded', body: 'body=hello&author_kind=assistant' }, content: 'hello', diff: { kind: 'text' as const, before: null, after: 'hello' } };
    expect(proposalMismatch(input, forumAction)).toBeNull();
  });

  it('content at a JSON pointer is read there, not as a top-level key', () => {
    const body = '{"text":"decoy","post":{"text":"the real post"}}';
    expect(proposalMismatch(post(body, 'the real post'), { content: '/post/text' })).toBeNull();
    expect(proposalMismatch(post(body, 'decoy'), { content: '/post/text' })).toMatch(/post text/);
  });

  it('a config change with a repeated form field: every value, in order, each beside its before', () => {
    const form = (body: string, fields: Array<{ name: string; before: string | null; after: string | null }>) => ({ request: { method: 'PUT', url: 'http://localhost:8081/api/datasets/p/access', contentType: 'application/x-www-form-urlencoded', body }, content: null, diff: { kind: 'fields' as const, fields } });
    const shown = [{ name: 'group', before: 'payroll', after: 'payroll' }, { name: 'group', before: null, after: 'everyone' }];
    expect(proposalMismatch(form('group=payroll&group=everyone', shown), {})).toBeNull();
    // Fewer values after than before: the extra before rows are null after.
    expect(proposalMismatch(form('group=payroll', [{ name: 'group', before: 'payroll', after: 'payroll' }, { name: 'group', before: 'hr', after: null }]), {})).toBeNull();
  });

  it('a config change whose after side is its body passes; fields only in before are null after', () => {
    const diff = { kind: 'fields' as const, fields: [{ name: 'visibility', before: 'team-only', after: 'all-employees' }, { name: 'groups', before: ['payroll'], after: [] }, { name: 'owner', before: 'hr', after: null }] };
    expect(proposalMismatch(acl('{"visibility":"all-employees","groups":[]}', diff), {})).toBeNull();
  });

  it('a text diff with a "before" passes where the adapter reads one (a wiki\'s edit form as it loaded)', () => {
    const edit = { content: 'body', before: { form: 'form#editform' } };
    expect(proposalMismatch(post('{"body":"x y"}', 'x y', { kind: 'text', before: 'x', after: 'x y' }), edit)).toBeNull();
    // Its after side is still the body's text.
    expect(proposalMismatch(post('{"body":"x y"}', 'x y', { kind: 'text', before: 'x', after: 'x' }), edit)).toMatch(/text shown/);
  });

  it('no diff at all passes: the popup then shows the raw body', () => {
    expect(proposalMismatch({ ...post('{"body":"hello"}', 'hello'), diff: null }, forumAction)).toBeNull();
  });
});

describe('E-05: a proposal whose review text is not its body is refused', () => {
  it('post text rewritten: the owner would see "thanks" and sign "delete prod"', () => {
    expect(proposalMismatch(post('{"body":"delete prod"}', 'thanks'), forumAction)).toMatch(/post text/);
  });

  it('text diff rewritten while the content field is honest', () => {
    expect(proposalMismatch(post('{"body":"delete prod"}', 'delete prod', { kind: 'text', before: null, after: 'thanks' }), forumAction)).toMatch(/text shown/);
  });

  it('a text diff with an invented "before" (the post would look like a small edit)', () => {
    expect(proposalMismatch(post('{"body":"x"}', 'x', { kind: 'text', before: 'x y z', after: 'x' }), forumAction)).not.toBeNull();
  });

  it('content claimed where the adapter reads none (generic site)', () => {
    expect(proposalMismatch(post('{"body":"x"}', 'x'), null)).not.toBeNull();
  });

  it('no content claimed although the body carries the post text (the popup would show no text)', () => {
    expect(proposalMismatch(post('{"body":"delete prod"}', null, { kind: 'fields', fields: [{ name: 'body', before: null, after: 'delete prod' }] }), forumAction)).toMatch(/post text/);
  });

  it('a config diff that shows the old value as the new one', () => {
    const diff = { kind: 'fields' as const, fields: [{ name: 'visibility', before: 'team-only', after: 'team-only' }, { name: 'groups', before: [], after: [] }] };
    expect(proposalMismatch(acl('{"visibility":"all-employees","groups":[]}', diff), {})).toMatch(/visibility/);
  });

  it('a config diff that leaves out a field of the body', () => {
    const diff = { kind: 'fields' as const, fields: [{ name: 'groups', before: [], after: [] }] };
    expect(proposalMismatch(acl('{"visibility":"all-employees","groups":[]}', diff), {})).toMatch(/leaves out the field visibility/);
  });

  it('a config diff naming a field twice (the table would show the harmless copy)', () => {
    const diff = { kind: 'fields' as const, fields: [{ name: 'visibility', before: 'team-only', after: 'all-employees' }, { name: 'visibility', before: 'team-only', after: 'team-only' }, { name: 'groups', before: [], after: [] }] };
    expect(proposalMismatch(acl('{"visibility":"all-employees","groups":[]}', diff), {})).toMatch(/more times than the request body/);
  });

  it('repeated form field: the popup would show the harmless value first while the tool applies the first value sent', () => {
    const body = 'group=everyone&group=payroll';
    const swapped = { request: { method: 'PUT', url: 'http://localhost:8081/api/datasets/p/access', contentType: 'application/x-www-form-urlencoded', body }, content: null, diff: { kind: 'fields' as const, fields: [{ name: 'group', before: null, after: 'payroll' }, { name: 'group', before: null, after: 'everyone' }] } };
    expect(proposalMismatch(swapped, {})).toMatch(/another value for group/);
    const lastOnly = { ...swapped, diff: { kind: 'fields' as const, fields: [{ name: 'group', before: null, after: 'payroll' }] } };
    expect(proposalMismatch(lastOnly, {})).toMatch(/leaves out a value of the field group/);
  });

  it('a repeated form field that carries the post text is refused: the owner would review one value and the tool could post the other', () => {
    const input = { request: { method: 'POST', url: URL_, contentType: 'application/x-www-form-urlencoded', body: 'body=thanks&body=delete%20prod' }, content: 'thanks', diff: { kind: 'text' as const, before: null, after: 'thanks' } };
    expect(proposalMismatch(input, forumAction)).toMatch(/ambiguous/);
    expect(proposalMismatch({ ...input, content: null, diff: null }, forumAction)).toMatch(/ambiguous/);
  });

  it('a fields diff over a body that is not an object', () => {
    expect(proposalMismatch(acl('[1,2]', { kind: 'fields', fields: [{ name: '0', before: null, after: 1 }] }), {})).not.toBeNull();
  });
});
