// Whether the page hooks hold a request, decided locally with the protocol's path matcher: only writes
// to the page's own origin; an adapter action as itself, a variant of one (case, slashes, encoding,
// another method) as the generic rule so that the background refuses it; on a generic site every
// write. An action is held when a signal says an assistant may have written it, or always when it
// says so. Node only (tests).
import { describe, expect, it } from 'vitest';
import { actionFor, isSameOriginWrite, mustHold } from '@/lib/content/page-hooks/hold-decision';
import type { HookConfig } from '@/lib/content/channel';

const ORIGIN = 'http://forum.corp:8080';
const page = { origin: ORIGIN };
const config: Pick<HookConfig, 'actions' | 'generic'> = {
  actions: [
    { request: { method: 'POST', url: '/api/topics/*/replies' }, requires: 'agents' },
    { request: { method: 'PUT', url: '/api/datasets/:id/access' }, requires: 'always' },
  ],
  generic: false,
};
const at = (path: string) => new URL(path, ORIGIN);

describe('isSameOriginWrite', () => {
  it('a write to the page\'s own origin is looked at', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(isSameOriginWrite(page, method, at('/x'))).toBe(true);
  });

  it('reads, and writes to another origin (another port, scheme or host), go out untouched', () => {
    expect(isSameOriginWrite(page, 'GET', at('/x'))).toBe(false);
    expect(isSameOriginWrite(page, 'HEAD', at('/x'))).toBe(false);
    for (const other of ['http://forum.corp:8081/x', 'https://forum.corp:8080/x', 'http://evil.example/x']) expect(isSameOriginWrite(page, 'POST', new URL(other))).toBe(false);
  });
});

describe('actionFor', () => {
  it('an action\'s request is that action, with what it requires', () => {
    expect(actionFor(config, 'POST', at('/api/topics/7/replies'))).toBe(config.actions[0]);
    expect(actionFor(config, 'PUT', at('/api/datasets/payroll/access'))).toBe(config.actions[1]);
  });

  it.each([
    ['another case', 'POST', '/API/topics/7/replies'],
    ['a trailing slash', 'POST', '/api/topics/7/replies/'],
    ['a doubled slash', 'POST', '/api//topics/7/replies'],
    ['an encoded slash outside a wildcard', 'POST', '/api%2Ftopics/7/replies'],
    ['another method (a method override)', 'PATCH', '/api/topics/7/replies'],
  ])('a variant (%s) is held as the generic rule, for the background to refuse', (_name, method, path) => {
    expect(actionFor(config, method, at(path))).toEqual({ requires: 'agents' });
  });

  it('an encoded slash inside a wildcard decodes to one segment: the action itself, held (the background refuses the ambiguous path)', () => {
    expect(actionFor(config, 'POST', at('/api/topics/7%2F8/replies'))).toBe(config.actions[0]);
  });

  it('dot segments are resolved before matching: the URL the request really goes to', () => {
    expect(actionFor(config, 'POST', at('/api/x/../topics/7/replies'))).toBe(config.actions[0]);
  });

  it('a path that is no action and no variant of one is not held', () => {
    expect(actionFor(config, 'POST', at('/api/drafts'))).toBeNull();
    expect(actionFor(config, 'POST', at('/api/topics/7'))).toBeNull();
  });

  it('on a generic site (no adapter) every write is held as the generic rule', () => {
    expect(actionFor({ actions: [], generic: true }, 'DELETE', at('/anything'))).toEqual({ requires: 'agents' });
  });
});

describe('mustHold', () => {
  it('an "agents" action is held only with a signal; an "always" action always', () => {
    expect(mustHold({ requires: 'agents' }, [])).toBe(false);
    expect(mustHold({ requires: 'agents' }, ['no-user-activation'])).toBe(true);
    expect(mustHold({ requires: 'always' }, [])).toBe(true);
  });
});
