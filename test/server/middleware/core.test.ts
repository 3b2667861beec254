// The decision core on its own (no framework, a recording verifier): the origin from configuration
// and never from the request (issue 13, item 1), the body the handler gets and the approval and
// markers read from it (item 4), a trace id on every refusal, and failing closed.
import { describe, expect, it } from 'vitest';
import { compileOrigins, createMiddleware, resolveRequestUrl } from '../../../server/middleware';
import type { Decision, IncomingRequest, RouteProtection, VerifierCall, VerifierClient } from '../../../server/middleware';
import { CountersignError, VerifierUnavailable } from '../../../lib/protocol';
import { MARKERS } from '../../helpers/middleware';

const ORIGIN = 'http://forum.corp.example';
const ROUTE: RouteProtection = { scope: 'forum.post', content: 'body' };
const utf8 = (s: string) => new TextEncoder().encode(s);

/** A verifier that allows everything and records what it was asked. */
function recorder(): VerifierClient & { calls: VerifierCall[] } {
  const calls: VerifierCall[] = [];
  return { calls, verify: async (call) => (calls.push(call), { receipt: 'ey.receipt', traceId: 'a'.repeat(32) }) };
}

function request(overrides: Partial<IncomingRequest> & { text?: string } = {}): IncomingRequest {
  const { text, ...rest } = overrides;
  return {
    method: 'POST',
    target: '/api/topics/1/replies',
    headers: { host: 'forum.corp.example' },
    contentType: 'application/json',
    body: utf8(text ?? '{"body":"hi"}'),
    principal: { kind: 'agent', id: 'agent:forum-helper' },
    ...rest,
  };
}

function refusedWith(decision: Decision, code: string): void {
  expect(decision.action).toBe('refuse');
  if (decision.action !== 'refuse') return;
  expect(decision.body.error.code).toBe(code);
  expect(decision.body.error.traceId).toMatch(/^[0-9a-f]{32}$/);
}

describe('origin configuration', () => {
  it('is required, and each must be an http(s)://host[:port] origin with nothing else (TypeError)', () => {
    const verifier = recorder();
    for (const origin of [undefined, '', [], 'forum.corp.example', 'ftp://forum.corp.example', 'http://forum.corp.example/path', 'http://forum.corp.example/?q', 'http://forum.corp.example/#f', 'http://user@forum.corp.example', 'http://forum.corp.example:99999', 'http://', 'http://a b', 42, [ORIGIN, 7]]) {
      expect(() => createMiddleware({ origin: origin as never, verifier }), JSON.stringify(origin)).toThrow(TypeError);
    }
    expect(() => createMiddleware({ origin: `${ORIGIN}/`, verifier })).not.toThrow();
    expect(createMiddleware({ origin: 'HTTP://Forum.Corp.Example:80', verifier }).origins.map((o) => o.origin)).toEqual([ORIGIN]);
  });

  it('refuses two origins that one Host header names (same authority)', () => {
    const verifier = recorder();
    for (const pair of [
      [ORIGIN, 'https://forum.corp.example'],
      ['http://a.example:8080', 'https://a.example:8080'],
      [ORIGIN, 'http://forum.corp.example:80'],
      [ORIGIN, ORIGIN],
    ]) {
      expect(() => createMiddleware({ origin: pair, verifier }), pair.join(' ')).toThrow(/same Host/);
    }
    expect(() => createMiddleware({ origin: [ORIGIN, 'https://forum.corp.example:8443', 'http://10.0.0.7:8080'], verifier })).not.toThrow();
  });
});

describe('the digested URL: configured origin + the target as received', () => {
  const origins = compileOrigins([ORIGIN, 'https://forum.corp.example:8443']);
  const resolve = (target: string, host?: string) => resolveRequestUrl(origins, target, host);

  it('is string concatenation: `//evil.example/x` stays a path of this origin', () => {
    expect(resolve('//evil.example/x', 'forum.corp.example')).toMatchObject({ ok: true, url: 'http://forum.corp.example//evil.example/x' });
    expect(resolve('/a?b=c&d', 'forum.corp.example')).toMatchObject({ ok: true, url: 'http://forum.corp.example/a?b=c&d' });
    expect(resolve('/a?', 'forum.corp.example')).toMatchObject({ ok: true, url: 'http://forum.corp.example/a?' });
  });

  it('takes the origin the Host header names: case-insensitive, default port the same, anything else refused', () => {
    expect(resolve('/x', 'FORUM.CORP.EXAMPLE')).toMatchObject({ ok: true, url: `${ORIGIN}/x` });
    expect(resolve('/x', 'forum.corp.example:80')).toMatchObject({ ok: true, url: `${ORIGIN}/x` });
    expect(resolve('/x', 'forum.corp.example:8443')).toMatchObject({ ok: true, url: 'https://forum.corp.example:8443/x' });
    for (const host of ['console.corp.example', 'forum.corp.example:8080', 'forum.corp.example:443', 'forum.corp.example.', 'forum.corp.example.:80', 'forum.corp.example:', 'user@forum.corp.example', 'forum.corp.example/x', 'xn--frum-fra.corp.example', ' forum.corp.example', '', 'forum.corp.example, console.corp.example']) {
      expect(resolve('/x', host), JSON.stringify(host)).toMatchObject({ ok: false, message: expect.stringMatching(/Host/) });
    }
    expect(resolveRequestUrl(origins, '/x', ['forum.corp.example', 'console.corp.example'])).toMatchObject({ ok: false });
  });

  it('without a Host header (HTTP/1.0) is the first configured origin', () => {
    expect(resolve('/x')).toMatchObject({ ok: true, url: `${ORIGIN}/x` });
  });

  it('accepts an absolute-form target only for a configured origin, and then takes its path and query', () => {
    expect(resolve('http://forum.corp.example/x?y', 'forum.corp.example')).toMatchObject({ ok: true, url: `${ORIGIN}/x?y` });
    expect(resolve('HTTP://FORUM.corp.example:80/x')).toMatchObject({ ok: true, url: `${ORIGIN}/x` });
    expect(resolve('https://forum.corp.example:8443/x', 'forum.corp.example:8443')).toMatchObject({ ok: true, url: 'https://forum.corp.example:8443/x' });
    for (const target of [
      'http://console.corp.example/x',
      'http://forum.corp.example:8080/x',
      'https://forum.corp.example/x',
      'http://forum.corp.example./x',
      'http://user@forum.corp.example/x',
      'http://forum.corp.example@evil.example/x',
      'ws://forum.corp.example/x',
      'http://forum.corp.example',
      'http://forum.corp.example?x',
    ]) {
      expect(resolve(target), target).toMatchObject({ ok: false });
    }
    // The Host header cannot point elsewhere than the absolute target does.
    expect(resolve('http://forum.corp.example/x', 'forum.corp.example:8443')).toMatchObject({ ok: false, message: expect.stringMatching(/different origins/) });
  });

  it('refuses a target that is not a path, and one the WHATWG parser reads differently', () => {
    for (const target of ['*', 'forum.corp.example:80', '', 'x/y', '/a/../b', '/a/./b', '/a/%2e%2e/b', '/a/%2E/b', '/a\\b', '/a#b', '/a b', '/a"b', '/a<b>', '/a{b}', '/a`b', '/ä', '/a?b c', "/a?it's", '/a\u0000b', '/a\tb']) {
      expect(resolve(target, 'forum.corp.example'), JSON.stringify(target)).toMatchObject({ ok: false });
    }
  });
});

describe('createMiddleware: one request on one protected route', () => {
  it('an origin or Host of another tool is refused 400 payload_invalid before anything else, for a person too', async () => {
    const verifier = recorder();
    const mw = createMiddleware({ origin: ORIGIN, verifier, markers: MARKERS });
    refusedWith(await mw.decide(request({ headers: { host: 'console.corp.example' }, principal: { kind: 'user', id: 'bob' } }), ROUTE), 'payload_invalid');
    refusedWith(await mw.decide(request({ target: 'http://console.corp.example/api/topics/1/replies', headers: {} }), ROUTE), 'payload_invalid');
    refusedWith(await mw.decide(request({ headers: { host: 'forum.corp.example', 'countersign-approval': 'a.b.c' }, target: '/api/topics/1/../1/replies' }), ROUTE), 'payload_invalid');
    expect(verifier.calls).toHaveLength(0);
  });

  it('asks the verifier with the configured origin\'s URL, the route\'s scope and content field, and never the text', async () => {
    const verifier = recorder();
    const mw = createMiddleware({ origin: ORIGIN, verifier, markers: MARKERS });
    const decision = await mw.decide(request({ headers: { host: 'FORUM.corp.example:80', 'countersign-approval': 't.o.k' }, text: '{"body":"hi","author_kind":"assistant"}' }), { scope: 'forum.post', content: '/body' });
    expect(decision).toMatchObject({ action: 'allow', url: `${ORIGIN}/api/topics/1/replies`, receipt: 'ey.receipt', scope: 'forum.post', parsed: { body: 'hi', author_kind: 'assistant' } });
    expect(verifier.calls).toEqual([
      {
        tokens: ['t.o.k'],
        request: { method: 'POST', url: `${ORIGIN}/api/topics/1/replies`, contentType: 'application/json', body: utf8('{"body":"hi","author_kind":"assistant"}') },
        scope: 'forum.post',
        contentField: '/body',
        principal: { kind: 'agent', id: 'agent:forum-helper' },
        assisted: true,
      },
    ]);
    expect(Object.keys(verifier.calls[0]!)).not.toContain('content');
  });

  it('duplicate JSON keys are refused (payload_invalid), whoever asks: no two parsers can read the body two ways', async () => {
    const mw = createMiddleware({ origin: ORIGIN, verifier: recorder(), markers: MARKERS });
    for (const text of ['{"body":"hi","author_kind":"person","author_kind":"assistant"}', '{"body":"a","body":"b"}', '{"x":{"y":1,"y":2}}', '{"author_kind":"person","author_\\u006bind":"assistant"}']) {
      refusedWith(await mw.decide(request({ text, principal: { kind: 'user', id: 'bob' } }), ROUTE), 'payload_invalid');
    }
    refusedWith(await mw.decide(request({ text: '{"body":' }), ROUTE), 'payload_invalid');
    refusedWith(await mw.decide(request({ body: new Uint8Array([0x7b, 0xff, 0x7d]) }), ROUTE), 'payload_invalid');
    refusedWith(await mw.decide(request({ contentType: 'text/plain', body: new Uint8Array([0xc3, 0x28]) }), ROUTE), 'payload_invalid');
  });

  it('a marker field counts in any position, any number of times, in a form or JSON (array) body', async () => {
    const mw = createMiddleware({ origin: ORIGIN, verifier: recorder(), markers: MARKERS });
    const person = { kind: 'user', id: 'alice' } as const;
    const forms = [
      'body=hi&author_kind=assistant',
      'author_kind=person&author_kind=assistant&body=hi',
      'author_kind=assistant&author_kind=person&body=hi',
      'body=hi&author_kind=person&x=1&author_kind=assistant',
      'author_kind=assistant&body=hi&author_kind=assistant',
    ];
    for (const text of forms) refusedWith(await mw.decide(request({ contentType: 'application/x-www-form-urlencoded', text, principal: person }), ROUTE), 'token_missing');
    refusedWith(await mw.decide(request({ text: '{"body":"hi","author_kind":["person","assistant"]}', principal: person }), ROUTE), 'token_missing');
    refusedWith(await mw.decide(request({ text: '{"body":"hi","author_kind":"assistant"}', principal: person }), ROUTE), 'token_missing');
    // A marker header too, whatever its case.
    refusedWith(await mw.decide(request({ headers: { host: 'forum.corp.example', 'x-assistant': '' }, principal: person }), ROUTE), 'token_missing');
    // Unmarked: a person's request passes, with the protocol's parse for the handler.
    const pass = await mw.decide(request({ contentType: 'application/x-www-form-urlencoded', text: 'author_kind=person&author_kind=person&body=hi', principal: person }), ROUTE);
    expect(pass).toMatchObject({ action: 'pass', parsed: { author_kind: ['person', 'person'], body: 'hi' } });
  });

  it('the handler gets the protocol\'s parse: JSON value, form object (repeated field an array, no prototype, no approval field), text, bytes, nothing', async () => {
    const mw = createMiddleware({ origin: ORIGIN, verifier: recorder() });
    const person = { kind: 'user', id: 'bob' } as const;
    const parse = async (contentType: string | null, body: Uint8Array | null, headers: Record<string, string> = {}) => {
      const d = await mw.decide(request({ contentType, body, principal: person, headers: { host: 'forum.corp.example', ...headers } }), ROUTE);
      if (d.action === 'refuse') throw new Error(d.body.error.message);
      return d.parsed;
    };
    expect(await parse('application/json', utf8('[1,{"a":null}]'))).toEqual([1, { a: null }]);
    expect(await parse('application/vnd.api+json', utf8('{"a":1}'))).toEqual({ a: 1 });
    const form = (await parse('application/x-www-form-urlencoded', utf8('tag=b&tag=a&__proto__=x&constructor=y&body=hi'), { 'countersign-approval': 'x.y.z' })) as Record<string, unknown>;
    expect(Object.getPrototypeOf(form)).toBeNull();
    expect(Object.entries(form)).toEqual([
      ['tag', ['b', 'a']],
      ['__proto__', 'x'],
      ['constructor', 'y'],
      ['body', 'hi'],
    ]);
    const boundary = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
    const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\nhi\r\n--${boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\na\r\n--${boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\nb\r\n--${boundary}--\r\n`;
    expect({ ...((await parse(`multipart/form-data; boundary=${boundary}`, utf8(multipart))) as object) }).toEqual({ body: 'hi', tag: ['a', 'b'] });
    expect(await parse('text/plain; charset=utf-8', utf8('héllo'))).toBe('héllo');
    const bytes = new Uint8Array([0, 1, 255]);
    expect(await parse('application/octet-stream', bytes)).toBe(bytes);
    expect(await parse(null, null)).toBeUndefined();
    expect(await parse('application/json', new Uint8Array(0))).toBeUndefined();
  });

  it('the approvals: the header\'s list or the repeated form field, never both; an empty element or more than five is token_malformed', async () => {
    const verifier = recorder();
    const mw = createMiddleware({ origin: ORIGIN, verifier });
    const form = (text: string, headers: Record<string, string | string[]> = {}) =>
      mw.decide(request({ contentType: 'application/x-www-form-urlencoded', text, headers: { host: 'forum.corp.example', ...headers } }), ROUTE);
    refusedWith(await form('body=hi&countersign_approval=a.b.c', { 'countersign-approval': 'a.b.c' }), 'token_malformed');
    refusedWith(await form('body=hi', { 'countersign-approval': 'a.b.c,,d.e.f' }), 'token_malformed');
    refusedWith(await form('body=hi', { 'countersign-approval': 'a.b.c, ' }), 'token_malformed');
    refusedWith(await form('body=hi', { 'countersign-approval': Array.from({ length: 6 }, (_, i) => `t.${i}.x`).join(', ') }), 'token_malformed');
    refusedWith(await form(`body=hi${Array.from({ length: 6 }, (_, i) => `&countersign_approval=t.${i}.x`).join('')}`), 'token_malformed');
    expect(verifier.calls).toHaveLength(0);
    expect(await form('body=hi&countersign_approval=a.b.c')).toMatchObject({ action: 'allow', parsed: { body: 'hi' } });
    expect(verifier.calls.at(-1)?.tokens).toEqual(['a.b.c']);
    await form('body=hi&countersign_approval=a.b.c&countersign_approval=d.e.f');
    expect(verifier.calls.at(-1)?.tokens).toEqual(['a.b.c', 'd.e.f']);
    await form('body=hi', { 'countersign-approval': ['a.b.c', 'd.e.f'] });
    expect(verifier.calls.at(-1)?.tokens).toEqual(['a.b.c', 'd.e.f']);
    await form('body=hi', { 'countersign-approval': 'a.b.c ,\td.e.f' });
    expect(verifier.calls.at(-1)?.tokens).toEqual(['a.b.c', 'd.e.f']);
  });

  it('who needs a token: agents, marked requests, everybody on "always"; a person\'s token is verified anyway', async () => {
    const verifier = recorder();
    const mw = createMiddleware({ origin: ORIGIN, verifier, markers: MARKERS });
    const bob = { kind: 'user', id: 'bob' } as const;
    refusedWith(await mw.decide(request(), ROUTE), 'token_missing');
    expect(await mw.decide(request({ principal: bob }), ROUTE)).toMatchObject({ action: 'pass' });
    refusedWith(await mw.decide(request({ principal: bob }), { scope: 'admin.acl.write', requires: 'always' }), 'token_missing');
    expect(await mw.decide(request({ principal: bob, headers: { host: 'forum.corp.example', 'countersign-approval': 'a.b.c' } }), ROUTE)).toMatchObject({ action: 'allow' });
    expect(verifier.calls.at(-1)).toMatchObject({ principal: bob, scope: 'forum.post' });
    expect(verifier.calls.at(-1)).not.toHaveProperty('assisted');
  });

  it('every refusal carries a trace id: the verifier\'s (the token\'s trc) when it gave one, else a fresh one', async () => {
    const trc = 'c0ffee'.padEnd(32, '0');
    const refusing = (error: Error): VerifierClient => ({ verify: async () => Promise.reject(error) });
    const withTrace = Object.assign(new CountersignError('replayed', 'token was already used'), { traceId: trc });
    const refused = await createMiddleware({ origin: ORIGIN, verifier: refusing(withTrace) }).decide(request({ headers: { host: 'forum.corp.example', 'countersign-approval': 'a.b.c' } }), ROUTE);
    expect(refused).toMatchObject({ action: 'refuse', status: 409, body: { error: { code: 'replayed', traceId: trc } } });
    const noTrace = await createMiddleware({ origin: ORIGIN, verifier: refusing(new CountersignError('signature_invalid', 'bad')) }).decide(request({ headers: { host: 'forum.corp.example', 'countersign-approval': 'a.b.c' } }), ROUTE);
    refusedWith(noTrace, 'signature_invalid');
    const a = await createMiddleware({ origin: ORIGIN, verifier: recorder() }).decide(request(), ROUTE);
    const b = await createMiddleware({ origin: ORIGIN, verifier: recorder() }).decide(request(), ROUTE);
    expect(a.action === 'refuse' && b.action === 'refuse' && a.body.error.traceId !== b.body.error.traceId).toBe(true);
  });

  it('fails closed: a verifier that throws anything else, or is unavailable, is 503 verifier_unavailable', async () => {
    for (const error of [new Error('socket hang up'), new TypeError('x is undefined'), new VerifierUnavailable('down')]) {
      const mw = createMiddleware({ origin: ORIGIN, verifier: { verify: async () => Promise.reject(error) } });
      const decision = await mw.decide(request({ headers: { host: 'forum.corp.example', 'countersign-approval': 'a.b.c' } }), ROUTE);
      refusedWith(decision, 'verifier_unavailable');
      expect(decision.action === 'refuse' && decision.status).toBe(503);
    }
  });
});
