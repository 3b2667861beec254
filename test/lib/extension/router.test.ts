// Messaging: every message's sender is checked against the map before its payload is parsed or
// handled, and the handler's value against the message's answer schema before it is sent. E-01: a
// content script (or anything but the popup) can never cause a signature. Sender classification
// itself is test/lib/messaging/senders.test.ts.
import { describe, expect, it, vi } from 'vitest';
import { dispatch } from '@/lib/extension/router';
import { protocolCrypto } from '@/lib/protocol';
import { TO_BACKGROUND } from '@/lib/messaging/contract';
import type { OrganisationPolicyView } from '@/lib/messaging/contract';

const SELF = { id: 'leelpbfgmamkjjkciaifjeihgadjnmgj', origin: 'chrome-extension://leelpbfgmamkjjkciaifjeihgadjnmgj' };
const popup = { id: SELF.id, url: `${SELF.origin}/popup.html`, origin: SELF.origin };
const popupInTab = { ...popup, tab: { id: 3 } };
const options = { id: SELF.id, url: `${SELF.origin}/options.html`, origin: SELF.origin, tab: { id: 4 } };
const contentScript = { id: SELF.id, url: 'http://127.0.0.1:8080/t/1', origin: 'http://127.0.0.1:8080', tab: { id: 7 }, frameId: 0 };
/** The service worker as Chrome stamps it (no URL) and as it stamps its script URL. */
const background = { id: SELF.id, origin: SELF.origin };
const backgroundByUrl = { id: SELF.id, url: `${SELF.origin}/background.js`, origin: SELF.origin };
const ORG: OrganisationPolicyView = { enabled: true, version: 3, verifierUrl: 'http://127.0.0.1:8787', updatedAt: 1, fetchedAt: 2, checkedAt: 3, error: null };

describe('dispatch', () => {
  it.each([
    ['a content script', contentScript],
    ['the options page', options],
    ['another extension', { ...popup, id: 'otherextensionid' }],
  ])('attack: %s asks for a presence challenge (to have an assertion made over it elsewhere) — refused, nothing drafted', async (_name, sender) => {
    const handler = vi.fn(async () => ({ presence: 'none' as const }));
    expect(await dispatch('ui-bg:presence-challenge', { kind: 'held', id: 'a1' }, sender, handler, SELF)).toMatchObject({ ok: false, code: 'sender_refused' });
    expect(handler).not.toHaveBeenCalled();
  });

  it.each([
    ['a content script', contentScript],
    ['the popup', popup],
  ])('ui-bg:enrollment-challenge from %s is refused', async (_name, sender) => {
    const handler = vi.fn(async () => ({ kid: 'k', challenge: 'c' }));
    expect(await dispatch('ui-bg:enrollment-challenge', {}, sender, handler, SELF)).toMatchObject({ ok: false, code: 'sender_refused' });
    expect(handler).not.toHaveBeenCalled();
  });

  it('the popup\'s presence challenge and the options page\'s enrollment challenge reach their handlers', async () => {
    const challenge = vi.fn(async () => ({ presence: 'uv' as const, challenge: 'c', credentialId: 'Y3JlZA', rpId: SELF.id }));
    expect(await dispatch('ui-bg:presence-challenge', { kind: 'held', id: 'a1' }, popup, challenge, SELF)).toMatchObject({ ok: true, value: { presence: 'uv' } });
    const enrollment = vi.fn(async () => ({ kid: 'k', challenge: 'c' }));
    expect(await dispatch('ui-bg:enrollment-challenge', {}, options, enrollment, SELF)).toEqual({ ok: true, value: { kid: 'k', challenge: 'c' } });
  });

  it('E-01: ui-bg:approve from a content script is refused before anything runs — no signature', async () => {
    const handler = vi.fn(async () => ({ state: 'approved' }));
    const sign = vi.spyOn(protocolCrypto(), 'signEs256');
    const outcome = await dispatch('ui-bg:approve', { actionId: 'a1' }, contentScript, handler, SELF);
    expect(outcome).toEqual({ ok: false, code: 'sender_refused', message: expect.any(String) });
    expect(handler).not.toHaveBeenCalled();
    expect(sign).not.toHaveBeenCalled();
    sign.mockRestore();
  });

  it.each([
    ['the options page', options],
    ['another extension', { ...popup, id: 'otherextensionid' }],
  ])('ui-bg:approve from %s is refused', async (_name, sender) => {
    const handler = vi.fn(async () => ({ state: 'approved' }));
    expect(await dispatch('ui-bg:approve', { actionId: 'a1' }, sender, handler, SELF)).toMatchObject({ ok: false, code: 'sender_refused' });
    expect(handler).not.toHaveBeenCalled();
  });

  it('ui-bg:approve from the popup reaches its handler with the parsed payload', async () => {
    const handler = vi.fn(async () => ({ state: 'approved' }));
    expect(await dispatch('ui-bg:approve', { actionId: 'a1' }, popupInTab, handler, SELF)).toEqual({ ok: true, value: { state: 'approved' } });
    expect(handler).toHaveBeenCalledWith({ actionId: 'a1' }, popupInTab);
  });

  it.each([
    ['extra members', { actionId: 'a1', sign: true }],
    ['a prototype-pollution key', JSON.parse('{"actionId":"a1","__proto__":{"admin":true}}')],
    ['a 10 MB string', { actionId: 'x'.repeat(10_000_000) }],
    ['a missing field', {}],
  ])('E-04: a payload with %s → payload_invalid, handler not called', async (_name, payload) => {
    const handler = vi.fn(async () => ({ state: 'approved' }));
    expect(await dispatch('ui-bg:approve', payload, popup, handler, SELF)).toMatchObject({ ok: false, code: 'payload_invalid' });
    expect(handler).not.toHaveBeenCalled();
  });

  it.each([
    ['a content script', contentScript, 'sender_refused'],
    ['the popup', popup, 'sender_refused'],
    ['another extension', { ...options, id: 'otherextensionid' }, 'sender_refused'],
  ])('ui-bg:refresh-organisation-policy (a device-authenticated fetch) from %s is refused', async (_name, sender, code) => {
    const handler = vi.fn(async () => ORG);
    expect(await dispatch('ui-bg:refresh-organisation-policy', {}, sender, handler, SELF)).toMatchObject({ ok: false, code });
    expect(handler).not.toHaveBeenCalled();
  });

  it('ui-bg:refresh-organisation-policy from the options page reaches its handler; a payload is refused', async () => {
    const handler = vi.fn(async () => ORG);
    expect(await dispatch('ui-bg:refresh-organisation-policy', {}, options, handler, SELF)).toEqual({ ok: true, value: ORG });
    expect(await dispatch('ui-bg:refresh-organisation-policy', { url: 'https://evil.example' }, options, handler, SELF)).toMatchObject({ ok: false, code: 'payload_invalid' });
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('ui-bg:save-settings: a new random pattern is asked for with `true` only', async () => {
    const handler = vi.fn(async () => null);
    expect(await dispatch('ui-bg:save-settings', { newBadgePattern: true }, options, handler, SELF)).toMatchObject({ ok: true });
    expect(await dispatch('ui-bg:save-settings', { newBadgePattern: 'aabbccddee' }, options, handler, SELF)).toMatchObject({ ok: false, code: 'payload_invalid' });
    expect(await dispatch('ui-bg:save-settings', { newBadgePattern: true }, contentScript, handler, SELF)).toMatchObject({ ok: false, code: 'sender_refused' });
  });

  it('a handler failure is an Outcome with a code, not a thrown error', async () => {
    const outcome = await dispatch('ui-bg:sync-now', {}, options, async () => {
      throw Object.assign(new Error('verifier down'), { code: 'verifier_unavailable' });
    }, SELF);
    expect(outcome).toEqual({ ok: false, code: 'verifier_unavailable', message: 'verifier down' });
  });

  it.each(TO_BACKGROUND)('%s from the background itself (no URL, or its script URL) is refused: no message is the background\'s to send itself', async (type) => {
    const handler = vi.fn();
    for (const sender of [background, backgroundByUrl]) {
      expect(await dispatch(type, {}, sender, handler as never, SELF)).toMatchObject({ ok: false, code: 'sender_refused' });
    }
    expect(handler).not.toHaveBeenCalled();
  });
});

describe('dispatch checks the answer against the message map', () => {
  const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzZWNyZXQiOnRydWV9.c2ln';

  it.each([
    ['a member of the wrong type', { state: 1 }],
    ['a missing member', {}],
    ['a private member added (the token)', { state: 'approved', token: TOKEN }],
    ['nothing', undefined],
  ])('an answer with %s fails closed as internal, its value not in the message', async (_name, value) => {
    const outcome = await dispatch('ui-bg:approve', { actionId: 'a1' }, popup, async () => value as never, SELF);
    expect(outcome).toEqual({ ok: false, code: 'internal', message: expect.any(String) });
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
    expect(JSON.stringify(outcome)).not.toContain('approved');
  });

  it('a verdict list of 500 is checked and sent as the handler made it', async () => {
    const verdicts = Array.from({ length: 500 }, (_, i) => (i % 2 ? { state: 'verified' as const, agent: 'agent:a', approver: 'alice', time: 1, traceId: 't', checks: ['signature'] } : { state: 'none' as const, checks: [] }));
    expect(await dispatch('cs-bg:verify-posts', { posts: [] }, contentScript, async () => verdicts, SELF)).toEqual({ ok: true, value: verdicts });
  });

  it('a verdict with a state the badge does not know is not sent', async () => {
    const outcome = await dispatch('cs-bg:verify-posts', { posts: [] }, contentScript, async () => [{ state: 'approved', checks: [] }] as never, SELF);
    expect(outcome).toMatchObject({ ok: false, code: 'internal' });
  });
});
