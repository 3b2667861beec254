// Path patterns (lib/protocol/path-pattern.ts): the one strict matcher of site adapters and protected
// routes, and every class of path too ambiguous to match (routers disagree about it): `//`, dot
// segments, encoded slashes and dots, backslashes, `;` parameters, `#`, control characters, bad and
// double percent-encoding.
import { describe, expect, it } from 'vitest';
import { compilePathPattern, fillPathTemplate, matchPath, pathAmbiguity } from '@/lib/protocol/path-pattern';

const replies = compilePathPattern('/api/topics/*/replies');

describe('compilePathPattern', () => {
  it('splits a pattern into segments and drops a query part', () => {
    expect(compilePathPattern('/api/topics/:id/replies?x=1')).toEqual({ source: '/api/topics/:id/replies?x=1', segments: ['api', 'topics', ':id', 'replies'] });
    expect(compilePathPattern('/')).toEqual({ source: '/', segments: [''] });
  });

  it.each(['api/topics', '', '*', 'https://forum.corp.example/api'])('a pattern that is not a path (%j) → TypeError', (pattern) => {
    expect(() => compilePathPattern(pattern)).toThrow(TypeError);
  });
});

describe('matchPath', () => {
  it('matches the same number of segments, returning each wildcard in order', () => {
    expect(matchPath(replies, '/api/topics/7/replies')).toEqual(['7']);
    const two = compilePathPattern('/api/:group/items/*');
    expect(matchPath(two, '/api/ops/items/42')).toEqual(['ops', '42']);
  });

  it('a literal segment compares percent-decoded (%74opics is topics), a wildcard is returned decoded', () => {
    expect(matchPath(replies, '/api/%74opics/7/replies')).toEqual(['7']);
    expect(matchPath(replies, '/api/topics/a%20b/replies')).toEqual(['a b']);
    expect(matchPath(compilePathPattern('/wiki/café'), '/wiki/caf%C3%A9')).toEqual([]);
  });

  it.each([
    ['another case', '/API/topics/7/replies'],
    ['another case in the last segment', '/api/topics/7/Replies'],
    ['a trailing slash', '/api/topics/7/replies/'],
    ['one segment more', '/api/topics/7/replies/8'],
    ['one segment less', '/api/topics/replies'],
    ['an empty wildcard segment', '/api/topics//replies'],
    ['a doubled leading slash', '//api/topics/7/replies'],
    ['a relative path', 'api/topics/7/replies'],
    ['a segment that does not decode', '/api/topics/%zz/replies'],
    ['a segment of invalid UTF-8', '/api/topics/%C0%AF/replies'],
    ['an encoded slash in a literal', '/api%2Ftopics/7/replies'],
  ])('does not match %s', (_name, path) => {
    expect(matchPath(replies, path)).toBeNull();
  });

  it('matches the root and a trailing-slash pattern only exactly', () => {
    expect(matchPath(compilePathPattern('/'), '/')).toEqual([]);
    expect(matchPath(compilePathPattern('/'), '/x')).toBeNull();
    expect(matchPath(compilePathPattern('/docs/'), '/docs/')).toEqual([]);
    expect(matchPath(compilePathPattern('/docs/'), '/docs')).toBeNull();
  });
});

describe('pathAmbiguity: paths that routers read differently are refused, each with its reason', () => {
  it.each([
    '/api/topics/7/replies',
    '/',
    '/api/topics/',
    '/wiki/caf%C3%A9',
    '/api/topics/a%20b/replies',
    '/api/topics/100%25/replies',
    '/API/Topics/7',
    '/v1.2/items',
    '/~user/file',
  ])('%s is plain', (path) => {
    expect(pathAmbiguity(path)).toBeNull();
  });

  it.each([
    ['not starting with /', 'api/topics', 'does not start with /'],
    ['the empty path', '', 'does not start with /'],
    ['an absolute URL', 'http://forum/api', 'does not start with /'],
    ['a leading //', '//api/topics/7/replies', 'empty segment'],
    ['an inner //', '/api//topics/7/replies', 'empty segment'],
    ['a trailing //', '/api/topics//', 'empty segment'],
    ['a lone //', '//', 'empty segment'],
    ['a . segment', '/api/./topics', 'dot segment'],
    ['a .. segment', '/api/../admin/acl', 'dot segment'],
    ['a trailing ..', '/api/topics/..', 'dot segment'],
    ['an encoded dot (%2e)', '/api/%2e%2e/admin', 'percent-encodes'],
    ['an encoded dot in upper case (%2E)', '/api/%2E/topics', 'percent-encodes'],
    ['a mixed dot segment (.%2e)', '/api/.%2e/admin', 'percent-encodes'],
    ['an encoded slash (%2f)', '/api/topics%2f7/replies', 'percent-encodes'],
    ['an encoded slash in upper case (%2F)', '/api%2Ftopics/7/replies', 'percent-encodes'],
    ['a backslash', '/api\\topics/7/replies', 'backslash'],
    ['an encoded backslash (%5c)', '/api%5ctopics/7', 'percent-encodes'],
    ['a ; parameter', '/api/topics;jsessionid=1/7/replies', '; parameters'],
    ['a ; at the end', '/api/topics/7/replies;', '; parameters'],
    ['an encoded ; (%3b)', '/api/topics%3bx/7', 'percent-encodes'],
    ['a #', '/api/topics/7/replies#x', 'contains a #'],
    ['an encoded # (%23)', '/api/topics%23/7', 'percent-encodes'],
    ['a NUL byte', '/api/topics/7\u0000/replies', 'control character'],
    ['a tab', '/api/topics/\t7/replies', 'control character'],
    ['a newline', '/api/topics/7\n/replies', 'control character'],
    ['a space', '/api/topics/7 /replies', 'control character or space'],
    ['DEL', '/api/topics/7\u007f', 'control character'],
    ['an encoded NUL (%00)', '/api/topics/7%00/replies', 'percent-encodes'],
    ['an encoded control character (%0a)', '/api/topics/7%0a', 'percent-encodes'],
    ['an encoded control character (%1F)', '/api/topics/7%1F', 'percent-encodes'],
    ['an encoded DEL (%7f)', '/api/topics/7%7f', 'percent-encodes'],
    ['a doubly encoded slash (%252f)', '/api/topics%252f7/replies', 'percent-encodes twice'],
    ['a doubly encoded dot (%252e)', '/api/%252e%252e/admin', 'percent-encodes twice'],
    ['a doubly encoded backslash (%255C)', '/api%255Ctopics', 'percent-encodes twice'],
    ['a bare %', '/api/topics/7%/replies', 'not valid percent-encoding'],
    ['a % with non-hex digits', '/api/topics/%zz/replies', 'not valid percent-encoding'],
    ['percent-encoding that is not UTF-8', '/api/topics/%C0%AF', 'not valid percent-encoding'],
    ['a lone UTF-8 lead byte', '/wiki/caf%C3', 'not valid percent-encoding'],
  ])('%s → refused', (_name, path, reason) => {
    expect(pathAmbiguity(path)).toContain(reason);
  });
});

describe('fillPathTemplate', () => {
  it('fills {n} with the n-th wildcard, percent-encoded', () => {
    expect(fillPathTemplate('/api/topics/{1}/edit', ['7'])).toBe('/api/topics/7/edit');
    expect(fillPathTemplate('/api/{2}/{1}', ['a/b', 'c d'])).toBe('/api/c%20d/a%2Fb');
  });

  it('a wildcard that is not there fills in empty', () => {
    expect(fillPathTemplate('/api/{3}', ['a'])).toBe('/api/');
  });
});
