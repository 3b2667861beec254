// What the page hooks read as a fetch's body: a Request's text on Chrome, which gives it a `body`
// stream, and on Firefox, which gives it none (a held post once reached review with no body there).
// Node only (tests).
import { describe, expect, it } from 'vitest';
import { requestBodyText } from '@/lib/content/page-hooks/body-text';

/** A Request as Firefox makes it: no `body` property at all. */
function asFirefoxMakesIt(request: Request): Request {
  return new Proxy(request, {
    has: (target, key) => key !== 'body' && key in target,
    get: (target, key) => (key === 'body' ? undefined : (Reflect.get(target, key, target) as unknown)),
  });
}

describe('requestBodyText', () => {
  it('reads the text of a body with a stream (Chrome)', async () => {
    expect(await requestBodyText(new Request('http://t.corp/r', { method: 'POST', body: '{"body":"hi"}' }))).toBe('{"body":"hi"}');
  });

  it('is null for a request without a body (Chrome)', async () => {
    expect(await requestBodyText(new Request('http://t.corp/r', { method: 'POST' }))).toBeNull();
  });

  it('reads the text of a body when Request has no body stream (Firefox)', async () => {
    const request = new Request('http://t.corp/r', { method: 'POST', body: 'body=hi' });
    expect(await requestBodyText(asFirefoxMakesIt(request))).toBe('body=hi');
  });

  it('is null for an empty body when Request has no body stream (Firefox)', async () => {
    expect(await requestBodyText(asFirefoxMakesIt(new Request('http://t.corp/r', { method: 'POST' })))).toBeNull();
  });

  it('leaves the request readable: the body is read from a copy', async () => {
    const request = new Request('http://t.corp/r', { method: 'POST', body: 'x=1' });
    await requestBodyText(request);
    expect(await request.text()).toBe('x=1');
  });
});
