// The one reader of request bodies (lib/protocol/request-fields.ts): JSON strictly (a duplicate key is
// invalid, never "last wins"), form pairs in the order sent, multipart without and with files, JSON
// pointers, the content field (a repeated one is refused), and markers found in any position.
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_FIELD,
  APPROVAL_HEADER,
  contentAt,
  fieldValues,
  formObject,
  hasFieldValue,
  jsonPointer,
  readBodyFields,
  readTextBodyFields,
} from '@/lib/protocol/request-fields';
import type { BodyFields } from '@/lib/protocol/request-fields';
import { PayloadInvalid } from '@/lib/protocol/errors';

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

function multipart(boundary: string, parts: Array<[string, string, { filename?: string; type?: string }?]>): string {
  return (
    parts
      .map(([name, value, o]) => {
        const disposition = `form-data; name="${name}"${o?.filename ? `; filename="${o.filename}"` : ''}`;
        return `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${o?.type ? `Content-Type: ${o.type}\r\n` : ''}\r\n${value}\r\n`;
      })
      .join('') + `--${boundary}--\r\n`
  );
}

describe('reading a JSON body', () => {
  it('parses the value and lists the top-level string members as pairs', () => {
    const fields = readTextBodyFields(JSON_TYPE, '{"body":"Hi","n":1,"author_kind":"assistant","nested":{"a":"b"}}');
    expect(fields).toEqual({ kind: 'json', value: { body: 'Hi', n: 1, author_kind: 'assistant', nested: { a: 'b' } }, pairs: [['body', 'Hi'], ['author_kind', 'assistant']] });
  });

  it.each([
    ['a duplicate key', '{"author_kind":"assistant","author_kind":"human"}'],
    ['a duplicate key spelled with an escape', '{"author_kind":"assistant","author_\\u006bind":"human"}'],
    ['a duplicate key in a nested object', '{"post":{"body":"a","body":"b"}}'],
    ['text that is not JSON', '{"body":'],
    ['a byte order mark', '\uFEFF{"body":"x"}'],
    ['an empty body', ''],
  ])('%s → invalid (never read two ways, never approvable)', (_name, body) => {
    expect(readTextBodyFields(JSON_TYPE, body).kind).toBe('invalid');
  });

  it('reads *+json media types and parameters as JSON', () => {
    expect(readTextBodyFields('application/merge-patch+json; charset=utf-8', '{"a":"b"}').kind).toBe('json');
    expect(readTextBodyFields('Application/JSON', '{"a":"b"}').kind).toBe('json');
  });

  it('bytes that are not UTF-8 → invalid', () => {
    expect(readTextBodyFields(JSON_TYPE, new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))).toEqual({ kind: 'invalid', reason: 'body is not valid UTF-8' });
  });

  it('bytes and the same text read alike', () => {
    const text = '{"body":"ü"}';
    expect(readTextBodyFields(JSON_TYPE, new TextEncoder().encode(text))).toEqual(readTextBodyFields(JSON_TYPE, text));
  });

  it('a top-level array or scalar has no pairs', () => {
    expect(readTextBodyFields(JSON_TYPE, '["body","x"]')).toEqual({ kind: 'json', value: ['body', 'x'], pairs: [] });
    expect(readTextBodyFields(JSON_TYPE, '"x"')).toEqual({ kind: 'json', value: 'x', pairs: [] });
  });

  it('a __proto__ member is an ordinary member, and pollutes nothing', () => {
    const fields = readTextBodyFields(JSON_TYPE, '{"__proto__":{"polluted":"yes"},"body":"x"}');
    expect(fields.kind).toBe('json');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(contentAt(fields, '/__proto__/polluted')).toBe('yes');
  });
});

describe('reading a form body', () => {
  it('keeps every pair in the order sent, repeated names included', () => {
    expect(readTextBodyFields(FORM_TYPE, 'tag=b&body=Hello+world%21&tag=a')).toEqual({ kind: 'form', pairs: [['tag', 'b'], ['body', 'Hello world!'], ['tag', 'a']] });
  });

  it('keeps the approval field in the pairs (the digest drops it; formObject omits it)', () => {
    const fields = readTextBodyFields(FORM_TYPE, `body=x&${APPROVAL_FIELD}=a.b.c`);
    expect(fieldValues(fields, APPROVAL_FIELD)).toEqual(['a.b.c']);
  });

  it('an empty body, or none, has no fields', () => {
    expect(readTextBodyFields(FORM_TYPE, '')).toEqual({ kind: 'none' });
    expect(readTextBodyFields(FORM_TYPE, null)).toEqual({ kind: 'none' });
    expect(readTextBodyFields(null, null)).toEqual({ kind: 'none' });
  });

  it('text, bytes and unknown types have no fields', () => {
    expect(readTextBodyFields('text/plain', 'body=x').kind).toBe('other');
    expect(readTextBodyFields('application/octet-stream', new Uint8Array([1, 2])).kind).toBe('other');
    expect(readTextBodyFields(null, 'body=x').kind).toBe('other');
  });

  it('the synchronous reader leaves multipart to readBodyFields', () => {
    expect(readTextBodyFields('multipart/form-data; boundary=B', multipart('B', [['body', 'x']])).kind).toBe('other');
  });
});

describe('reading a multipart body', () => {
  it('without files: a form, every pair in order', async () => {
    const body = multipart('XyZ', [['tag', 'b'], ['body', 'Hello world!'], ['tag', 'a']]);
    expect(await readBodyFields('multipart/form-data; boundary=XyZ', body)).toEqual({ kind: 'form', pairs: [['tag', 'b'], ['body', 'Hello world!'], ['tag', 'a']] });
  });

  it('reads the same pairs as the urlencoded form of the same fields', async () => {
    const fromMultipart = await readBodyFields('multipart/form-data; boundary=B', multipart('B', [['body', 'Hello world!'], ['tag', 'x']]));
    const fromUrlencoded = await readBodyFields(FORM_TYPE, 'body=Hello+world%21&tag=x');
    expect(fromMultipart).toEqual(fromUrlencoded);
  });

  it('with a file: no fields (the digest binds its bytes)', async () => {
    const body = multipart('B', [['body', 'x'], ['f', 'hi', { filename: 'a.txt', type: 'text/plain' }]]);
    expect(await readBodyFields('multipart/form-data; boundary=B', body)).toEqual({ kind: 'other' });
  });

  it.each([
    ['a body that does not parse', 'multipart/form-data; boundary=B', 'not multipart at all'],
    ['no boundary', 'multipart/form-data', multipart('B', [['body', 'x']])],
    ['an empty body', 'multipart/form-data; boundary=B', ''],
  ])('%s → invalid', async (_name, type, body) => {
    expect((await readBodyFields(type, body)).kind).toBe('invalid');
  });

  it('JSON and form bodies read as the synchronous reader reads them', async () => {
    expect(await readBodyFields(JSON_TYPE, '{"a":"b"}')).toEqual(readTextBodyFields(JSON_TYPE, '{"a":"b"}'));
    expect(await readBodyFields(FORM_TYPE, 'a=b')).toEqual(readTextBodyFields(FORM_TYPE, 'a=b'));
  });
});

describe('JSON pointers (RFC 6901)', () => {
  const doc = { post: { text: 'T', tags: ['a', 'b'] }, 'a/b': 1, 'm~n': 2, '': 3, ' ': 4, '~1': 5, list: [{ body: 'first' }] };

  it.each([
    ['', doc],
    ['/post/text', 'T'],
    ['/post/tags/0', 'a'],
    ['/post/tags/1', 'b'],
    ['/a~1b', 1],
    ['/m~0n', 2],
    ['/', 3],
    ['/ ', 4],
    ['/~01', 5],
    ['/list/0/body', 'first'],
  ])('%j → %j', (pointer, expected) => {
    expect(jsonPointer(doc, pointer)).toEqual(expected);
  });

  it.each([
    ['no leading slash', 'post'],
    ['a missing member', '/post/title'],
    ['an index past the end', '/post/tags/2'],
    ['an index with a leading zero', '/post/tags/01'],
    ['the "-" index', '/post/tags/-'],
    ['a negative index', '/post/tags/-1'],
    ['a non-numeric index', '/post/tags/length'],
    ['into a string', '/post/text/0'],
    ['an invalid escape ~2', '/m~2n'],
    ['a trailing ~', '/m~'],
    ['an inherited property', '/post/constructor'],
    ['__proto__ of a plain object', '/post/__proto__'],
  ])('%s → undefined', (_name, pointer) => {
    expect(jsonPointer(doc, pointer)).toBeUndefined();
  });
});

describe('the content field', () => {
  const json = (body: string) => readTextBodyFields(JSON_TYPE, body);
  const form = (body: string) => readTextBodyFields(FORM_TYPE, body);

  it('a JSON pointer or a top-level name reads a JSON body', () => {
    const fields = json('{"body":"Top","post":{"text":"Nested"},"a/b":"Slash","m~n":"Tilde"}');
    expect(contentAt(fields, '/body')).toBe('Top');
    expect(contentAt(fields, 'body')).toBe('Top');
    expect(contentAt(fields, '/post/text')).toBe('Nested');
    // A field name is a member name, never a pointer: its / and ~ are escaped.
    expect(contentAt(fields, 'a/b')).toBe('Slash');
    expect(contentAt(fields, 'm~n')).toBe('Tilde');
  });

  it('a value that is not a string, or no value, is null', () => {
    const fields = json('{"body":42,"post":{"text":null}}');
    expect(contentAt(fields, '/body')).toBeNull();
    expect(contentAt(fields, '/post/text')).toBeNull();
    expect(contentAt(fields, '/missing')).toBeNull();
  });

  it('a form field by name, or by a one-step pointer', () => {
    const fields = form('title=T&body=Hello+world&x%2Fy=Slash');
    expect(contentAt(fields, 'body')).toBe('Hello world');
    expect(contentAt(fields, '/body')).toBe('Hello world');
    expect(contentAt(fields, '/x~1y')).toBe('Slash');
    expect(contentAt(fields, '/post/body')).toBeNull();
    expect(contentAt(fields, 'missing')).toBeNull();
  });

  it.each([
    ['body=A&body=B'],
    ['body=B&body=A'],
    ['body=A&title=T&body=A'],
    ['body=&body=A'],
  ])('a repeated form content field (%s) → PayloadInvalid, never a guess', (body) => {
    expect(() => contentAt(form(body), 'body')).toThrow(PayloadInvalid);
    expect(() => contentAt(form(body), '/body')).toThrow(expect.objectContaining({ code: 'payload_invalid', field: 'request.body' }));
  });

  it('a repeated multipart content field → PayloadInvalid', async () => {
    const fields = await readBodyFields('multipart/form-data; boundary=XyZ', multipart('XyZ', [['body', 'A'], ['body', 'B']]));
    expect(() => contentAt(fields, 'body')).toThrow(PayloadInvalid);
  });

  it('another repeated field does not matter', () => {
    expect(contentAt(form('tag=a&body=Hi&tag=b'), 'body')).toBe('Hi');
  });

  it.each<[string, BodyFields]>([
    ['no body', { kind: 'none' }],
    ['a text body', { kind: 'other' }],
    ['an invalid body', { kind: 'invalid', reason: 'x' }],
  ])('%s has no content', (_name, fields) => {
    expect(contentAt(fields, 'body')).toBeNull();
  });
});

describe('markers and field values', () => {
  it.each([
    ['first', 'author_kind=assistant&author_kind=human&body=x'],
    ['last', 'author_kind=human&body=x&author_kind=assistant'],
    ['middle', 'author_kind=human&author_kind=assistant&author_kind=human'],
    ['only', 'author_kind=assistant'],
  ])('a marker value counts in any position (%s)', (_name, body) => {
    expect(hasFieldValue(readTextBodyFields(FORM_TYPE, body), 'author_kind', 'assistant')).toBe(true);
  });

  it('no marker value, or another field with it, is no marker', () => {
    expect(hasFieldValue(readTextBodyFields(FORM_TYPE, 'author_kind=human&kind=assistant'), 'author_kind', 'assistant')).toBe(false);
    expect(hasFieldValue(readTextBodyFields(FORM_TYPE, 'author_kind=Assistant'), 'author_kind', 'assistant')).toBe(false);
  });

  it('a JSON marker is a top-level string member', () => {
    expect(hasFieldValue(readTextBodyFields(JSON_TYPE, '{"author_kind":"assistant"}'), 'author_kind', 'assistant')).toBe(true);
    expect(hasFieldValue(readTextBodyFields(JSON_TYPE, '{"post":{"author_kind":"assistant"}}'), 'author_kind', 'assistant')).toBe(false);
  });

  it('fieldValues lists every value in order; none for bodies without fields', () => {
    expect(fieldValues(readTextBodyFields(FORM_TYPE, 'tag=b&tag=a&tag=c'), 'tag')).toEqual(['b', 'a', 'c']);
    expect(fieldValues({ kind: 'other' }, 'tag')).toEqual([]);
    expect(fieldValues({ kind: 'invalid', reason: 'x' }, 'tag')).toEqual([]);
  });
});

describe('formObject: the parse a handler gets', () => {
  it('one value a string, a repeated field every value in order, without the approval field', () => {
    const object = formObject([['tag', 'b'], ['body', 'x'], ['tag', 'a'], [APPROVAL_FIELD, 't'], ['tag', 'c']]);
    expect({ ...object }).toEqual({ tag: ['b', 'a', 'c'], body: 'x' });
  });

  it('any name is safe (no prototype)', () => {
    const object = formObject([['__proto__', 'x'], ['constructor', 'y'], ['hasOwnProperty', 'z']]);
    expect(Object.getPrototypeOf(object)).toBeNull();
    expect(object.__proto__).toBe('x');
    expect(object.constructor).toBe('y');
  });

  it('omits the names it is told to', () => {
    expect({ ...formObject([['a', '1'], ['b', '2']], ['a']) }).toEqual({ b: '2' });
  });
});

it('the approval header name is the one DESIGN.md gives', () => {
  expect(APPROVAL_HEADER).toBe('Countersign-Approval');
  expect(APPROVAL_FIELD).toBe('countersign_approval');
});
