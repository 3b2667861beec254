// The content script's side of bg-cs: a release or settlement is taken only from the background (as
// the browser stamps it) and only with a payload of the message map's shape; the hand checks agree
// with the map's rows, so a content script needs no zod.
import { describe, expect, it } from 'vitest';
import { MESSAGES } from '@/lib/messaging/contract';
import { acceptFromBackground, parseToContent } from '@/lib/messaging/to-content';

const SELF = { id: 'leelpbfgmamkjjkciaifjeihgadjnmgj', origin: 'chrome-extension://leelpbfgmamkjjkciaifjeihgadjnmgj' };
const worker = { id: SELF.id, origin: SELF.origin };
const workerByUrl = { id: SELF.id, url: `${SELF.origin}/background.js`, origin: SELF.origin };
const release = { actionId: 'a1', tokens: ['eyJhbGciOiJFUzI1NiJ9.e30.c2ln'] };
const settle = { actionId: 'a1', outcome: 'rejected', message: 'Rejected by its owner.' };

describe('acceptFromBackground', () => {
  it.each([
    ['the service worker (no URL)', worker],
    ['the service worker by its script URL', workerByUrl],
  ])('takes a release and a settlement from %s, as a copy of the payload', (_name, sender) => {
    const taken = acceptFromBackground('bg-cs:release', release, sender, SELF);
    expect(taken).toEqual(release);
    expect(taken).not.toBe(release);
    expect(taken!.tokens).not.toBe(release.tokens);
    expect(acceptFromBackground('bg-cs:settle', settle, sender, SELF)).toEqual(settle);
  });

  it.each([
    ['the popup (an extension page with no tab, which may call tabs.sendMessage)', { id: SELF.id, url: `${SELF.origin}/popup.html`, origin: SELF.origin }],
    ['the options page', { id: SELF.id, url: `${SELF.origin}/options.html`, origin: SELF.origin, tab: { id: 4 } }],
    ['a content script', { id: SELF.id, url: 'http://127.0.0.1:8080/t/1', origin: 'http://127.0.0.1:8080', tab: { id: 7 }, frameId: 0 }],
    ['another extension', { id: 'otherextensionid' }],
    ['another page of ours', { id: SELF.id, url: `${SELF.origin}/evil.html`, origin: SELF.origin }],
  ])('a release from %s is dropped: it would send the held request', (_name, sender) => {
    expect(acceptFromBackground('bg-cs:release', release, sender, SELF)).toBeNull();
    expect(acceptFromBackground('bg-cs:settle', settle, sender, SELF)).toBeNull();
  });

  it('a settlement carrying the longest rejection the background sends (its preface and a 500-character reason) is taken', () => {
    const message = `Rejected by its owner: ${'r'.repeat(500)}`;
    expect(acceptFromBackground('bg-cs:settle', { ...settle, message }, worker, SELF)).toEqual({ ...settle, message });
  });
});

const BAD_RELEASES: Array<[string, unknown]> = [
  ['nothing', undefined],
  ['null', null],
  ['an array', [release.actionId, release.tokens[0]]],
  ['an empty object', {}],
  ['an inherited token', Object.assign(Object.create({ tokens: ['t'] }) as object, { actionId: 'a1' })],
  ['a string', JSON.stringify(release)],
  ['a missing token', { actionId: 'a1' }],
  ['one token as a string, not a list', { actionId: 'a1', tokens: 't' }],
  ['an empty list of tokens', { actionId: 'a1', tokens: [] }],
  ['an empty token in the list', { actionId: 'a1', tokens: ['t', ''] }],
  ['a token that is not a string', { actionId: 'a1', tokens: ['t', 5] }],
  ['six tokens (more than a quorum may need)', { actionId: 'a1', tokens: ['a', 'b', 'c', 'd', 'e', 'f'] }],
  ['an extra member', { ...release, settle: true }],
  ['a prototype-pollution key', JSON.parse(`{"actionId":"a1","tokens":["t"],"__proto__":{"admin":true}}`)],
  ['a numeric action id', { ...release, actionId: 1 }],
  ['a token over 8192 characters', { ...release, tokens: ['x'.repeat(8193)] }],
];
const BAD_SETTLES: Array<[string, unknown]> = [
  ['nothing', undefined],
  ['an outcome that is a release', { ...settle, outcome: 'released' }],
  ['an outcome from the prototype', { ...settle, outcome: 'toString' }],
  ['a missing message', { actionId: 'a1', outcome: 'failed' }],
  ['an extra member', { ...settle, token: 't' }],
  ['a message over 1024 characters', { ...settle, message: 'x'.repeat(1025) }],
];

describe('the bg-cs payload checks', () => {
  it.each(BAD_RELEASES)('a release with %s is dropped, by the hand check and by the message map alike', (_name, data) => {
    expect(parseToContent('bg-cs:release', data)).toBeNull();
    expect(acceptFromBackground('bg-cs:release', data, worker, SELF)).toBeNull();
    expect(MESSAGES['bg-cs:release'].input.safeParse(data).success).toBe(false);
  });

  it.each(BAD_SETTLES)('a settlement with %s is dropped, by the hand check and by the message map alike', (_name, data) => {
    expect(parseToContent('bg-cs:settle', data)).toBeNull();
    expect(MESSAGES['bg-cs:settle'].input.safeParse(data).success).toBe(false);
  });

  it('the message map takes what the hand checks take', () => {
    expect(parseToContent('bg-cs:release', release)).toEqual(release);
    expect(MESSAGES['bg-cs:release'].input.safeParse(release).success).toBe(true);
    // A quorum's release: every approval, in order, up to five.
    const quorum = { actionId: 'a1', tokens: ['t1', 't2', 't3', 't4', 't5'] };
    expect(parseToContent('bg-cs:release', quorum)).toEqual(quorum);
    expect(MESSAGES['bg-cs:release'].input.safeParse(quorum).success).toBe(true);
    for (const outcome of ['rejected', 'expired', 'blocked', 'failed']) {
      expect(parseToContent('bg-cs:settle', { ...settle, outcome })).toEqual({ ...settle, outcome });
      expect(MESSAGES['bg-cs:settle'].input.safeParse({ ...settle, outcome }).success).toBe(true);
    }
  });
});
