// The extension pages' WebAuthn requests and what a failure tells the person: registration asks for
// ES256 only with user verification required, for this extension's RP id, over the background's
// challenge; an assertion names the device's one credential and requires user verification; a
// cancelled, unsupported or refused ceremony says so plainly (and, when approving, that nothing was
// signed). Node only (tests): the ceremonies themselves run in Chromium (test/e2e/presence.test.ts).
import { WebAuthnError } from '@simplewebauthn/browser';
import { describe, expect, it } from 'vitest';
import { assertionOptions, registrationOptions, webAuthnFailure } from '@/lib/presence-page/webauthn';
import { presenceText } from '@/components/OptionsApp';

const RP = 'leelpbfgmamkjjkciaifjeihgadjnmgj';

describe('what the pages ask the authenticator', () => {
  it('registration: ES256 only, user verification required, no resident key, no attestation, the RP this extension', () => {
    expect(registrationOptions({ challenge: 'Y2hhbGxlbmdl', label: 'laptop', rpId: RP, userId: 'dXNlcg' })).toEqual({
      rp: { name: 'Countersign', id: RP },
      user: { id: 'dXNlcg', name: 'laptop', displayName: 'laptop' },
      challenge: 'Y2hhbGxlbmdl',
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      authenticatorSelection: { userVerification: 'required', residentKey: 'discouraged' },
      attestation: 'none',
      timeout: 120_000,
    });
  });

  it('an assertion: the device\'s one credential, user verification required, over the approval\'s challenge, for the RP id it was made for', () => {
    expect(assertionOptions({ challenge: 'Y2hhbGxlbmdl', rpId: RP, credentialId: 'Y3JlZA' })).toEqual({
      challenge: 'Y2hhbGxlbmdl',
      rpId: RP,
      allowCredentials: [{ id: 'Y3JlZA', type: 'public-key' }],
      userVerification: 'required',
      timeout: 120_000,
    });
  });
});

describe('a ceremony that gave nothing, in plain words', () => {
  const named = (name: string) => Object.assign(new Error('browser text'), { name });

  it('cancelled, timed out or not verified: said so; when approving, nothing was signed and the person may try again', () => {
    const wrapped = new WebAuthnError({ message: 'browser text', code: 'ERROR_PASSTHROUGH_SEE_CAUSE_PROPERTY', cause: named('NotAllowedError') });
    expect(webAuthnFailure(wrapped, 'assert')).toMatch(/^Your presence was not confirmed: it was cancelled, timed out, or no authenticator could verify you.*Nothing was signed.*try again/);
    expect(webAuthnFailure(named('NotAllowedError'), 'register')).toMatch(/^The authenticator was not registered: it was cancelled/);
  });

  it('no WebAuthn in this browser, no ES256 with verification, or not allowed for this page: each said so', () => {
    expect(webAuthnFailure(new Error('WebAuthn is not supported in this browser'), 'register')).toMatch(/offers no WebAuthn here/);
    expect(webAuthnFailure(named('NotSupportedError'), 'register')).toMatch(/supports ES256 with user verification/);
    expect(webAuthnFailure(named('SecurityError'), 'assert')).toMatch(/does not allow WebAuthn for this extension page/);
  });
});

describe('the options page\'s word on the device\'s authenticator', () => {
  it('registered: the first characters of its credential; none: why it matters and how to add one', () => {
    expect(presenceText({ credentialId: 'abcdefghijklmnop' })).toBe('Presence: registered (credential abcdefgh…).');
    expect(presenceText(undefined)).toMatch(/cannot approve actions that need your presence.*new enrollment code/);
  });
});
