// How the extension reads a request body: the fields the hooks, the bridge, the proposal check and the
// popup all see, as the middleware sees them.
import { describe, expect, it } from 'vitest';
import { afterSide, bodyFields, otherFields } from '@/lib/extension/request-body';

describe('otherFields: what the signed body carries besides the post text (shown to the owner)', () => {
  it('lists a JSON body\'s hidden fields, not the text itself', () => {
    const body = '{"body":"Use the staging bucket.","author_kind":"assistant","notify":["everyone"]}';
    expect(otherFields('application/json', body, 'Use the staging bucket.')).toEqual([
      ['author_kind', 'assistant'],
      ['notify', ['everyone']],
    ]);
  });

  it('keeps a second field that repeats the text (only one is the post)', () => {
    expect(otherFields('application/x-www-form-urlencoded', 'body=hi&copy=hi', 'hi')).toEqual([['copy', 'hi']]);
  });

  it('shows a body it cannot split into fields whole', () => {
    expect(otherFields('text/plain', 'raw words', 'raw words')).toEqual([['body', 'raw words']]);
    expect(otherFields('application/json', '[1]', 'x')).toEqual([['body', '[1]']]);
  });

  it('has nothing to add when the body is only the text', () => {
    expect(otherFields('application/json', '{"body":"only"}', 'only')).toEqual([]);
    expect(otherFields(null, null, 'x')).toEqual([]);
  });
});

describe('bodyFields and afterSide: the fields the hooks and the proposal check read', () => {
  it('bodyFields keeps a JSON object\'s top-level strings, and a form\'s first value per name', () => {
    expect([...bodyFields('application/json', '{"body":"hi","n":1,"tags":["a"]}')]).toEqual([['body', 'hi']]);
    expect([...bodyFields('application/x-www-form-urlencoded', 'body=one&body=two')]).toEqual([['body', 'one']]);
    expect(bodyFields('application/json', 'not json').size).toBe(0);
    expect(bodyFields('text/plain', 'body=hi').size).toBe(0);
  });

  it('afterSide reads a JSON object, or a form with its last value per name; any other JSON is no after side', () => {
    expect(afterSide('application/json', '{"visibility":"team-only","groups":[]}')).toEqual({ visibility: 'team-only', groups: [] });
    expect(afterSide('application/x-www-form-urlencoded', 'visibility=a&visibility=b')).toEqual({ visibility: 'b' });
    expect(afterSide('application/json', '[1,2]')).toBeNull();
    expect(afterSide('application/json', '{')).toBeNull();
  });
});
