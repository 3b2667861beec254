// How the extension reads a request body, on the protocol's one reader: the fields the bridge, the
// proposal check and the popup all see, as the middleware sees them. Form pairs keep their order and
// every value of a repeated field; the post's text is where the action says (a field or a JSON pointer).
import { describe, expect, it } from 'vitest';
import { bodyPairs, fieldRows, otherFields, postText } from '@/lib/shared/request-body';

describe('otherFields: what the signed body carries besides the post text (shown to the owner)', () => {
  it('lists a JSON body\'s other fields, not the text itself', () => {
    const body = '{"body":"Use the staging bucket.","author_kind":"assistant","notify":["everyone"]}';
    expect(otherFields('application/json', body, 'Use the staging bucket.', 'body')).toEqual([
      ['author_kind', 'assistant'],
      ['notify', ['everyone']],
    ]);
  });

  it('removes the content field by name: a second field repeating the text is shown', () => {
    expect(otherFields('application/x-www-form-urlencoded', 'copy=hi&body=hi', 'hi', 'body')).toEqual([['copy', 'hi']]);
  });

  it('every value of a repeated field, in the order sent (the tool may apply the first)', () => {
    expect(otherFields('application/x-www-form-urlencoded', 'body=hi&notify=none&notify=everyone', 'hi', 'body')).toEqual([
      ['notify', 'none'],
      ['notify', 'everyone'],
    ]);
  });

  it('a JSON pointer content: the rest of the member that holds it is shown, without the text', () => {
    const body = '{"post":{"title":"Runbook","text":"Rotate the keys."},"text":"decoy"}';
    expect(otherFields('application/json', body, 'Rotate the keys.', '/post/text')).toEqual([
      ['post', { title: 'Runbook' }],
      ['text', 'decoy'],
    ]);
  });

  it('a record without its content field (held before it was stored): the first field with the text is the post', () => {
    expect(otherFields('application/x-www-form-urlencoded', 'body=hi&copy=hi', 'hi')).toEqual([['copy', 'hi']]);
  });

  it('shows a body it cannot split into fields whole', () => {
    expect(otherFields('text/plain', 'raw words', 'raw words', 'body')).toEqual([['body', 'raw words']]);
    expect(otherFields('application/json', '[1]', 'x', 'body')).toEqual([['body', '[1]']]);
    // Strict JSON: a duplicate member is no object, so it is shown as sent, never read one way.
    expect(otherFields('application/json', '{"body":"a","body":"b"}', 'a', 'body')).toEqual([['body', '{"body":"a","body":"b"}']]);
  });

  it('has nothing to add when the body is only the text', () => {
    expect(otherFields('application/json', '{"body":"only"}', 'only', 'body')).toEqual([]);
    expect(otherFields(null, null, 'x', 'body')).toEqual([]);
  });
});

describe('bodyPairs, postText and fieldRows', () => {
  it('bodyPairs: a JSON object\'s members, a form\'s every pair in order; nothing for other bodies', () => {
    expect(bodyPairs('application/json', '{"visibility":"team-only","groups":[]}')).toEqual([['visibility', 'team-only'], ['groups', []]]);
    expect(bodyPairs('application/x-www-form-urlencoded', 'tag=b&x=1&tag=a')).toEqual([['tag', 'b'], ['x', '1'], ['tag', 'a']]);
    expect(bodyPairs('application/json', '[1,2]')).toBeNull();
    expect(bodyPairs('application/json', '{')).toBeNull();
    expect(bodyPairs('text/plain', 'a=b')).toBeNull();
  });

  it('postText reads a field name or a JSON pointer; a repeated form field is refused, never guessed', () => {
    expect(postText('application/json', '{"body":"hi"}', 'body')).toBe('hi');
    expect(postText('application/json', '{"body":"top","post":{"body":"deep"}}', '/post/body')).toBe('deep');
    expect(postText('application/json', '{"a/b":"slash"}', '/a~1b')).toBe('slash');
    expect(postText('application/x-www-form-urlencoded', 'body=hi', '/body')).toBe('hi');
    expect(postText('application/json', '{"body":1}', 'body')).toBeNull();
    expect(() => postText('application/x-www-form-urlencoded', 'body=a&body=b', 'body')).toThrow(expect.objectContaining({ code: 'payload_invalid' }));
  });

  it('fieldRows: one row per value of a repeated field, in order, before beside after', () => {
    expect(fieldRows([['group', 'payroll'], ['owner', 'hr']], [['group', 'payroll'], ['group', 'everyone']])).toEqual([
      { name: 'group', before: 'payroll', after: 'payroll' },
      { name: 'group', before: null, after: 'everyone' },
      { name: 'owner', before: 'hr', after: null },
    ]);
  });
});
