// The presence protocol pieces: the challenges an approval's and an enrollment's WebAuthn ceremonies sign, the `wa` claim's schema, and an approval minted with an assertion over its own jti and exp.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ApprovalClaims,
  WebAuthnAssertion,
  WebAuthnRegistration,
  actionDigest,
  approvalDraft,
  assertionChallenge,
  enrollmentChallenge,
  exportEs256PublicJwk,
  generateEs256KeyPair,
  jwkThumbprint,
  mintApprovalToken,
  newTraceId,
  presenceChallenge,
} from '../../../lib/protocol';
import { createAuthenticator } from '../../helpers/webauthn';
import { decodePart } from '../../helpers/approval-world';

const REQUEST = { method: 'PUT', url: 'http://localhost:8081/api/datasets/payroll-2026/access', contentType: 'application/json', body: '{"visibility":"all-employees"}' };
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url');

describe('presenceChallenge', () => {
  it('is base64url(SHA-256(dig "." jti "." exp)), 32 bytes', async () => {
    const challenge = await presenceChallenge({ dig: 'abc', jti: 'j1', exp: 1_800_000_120 });
    expect(challenge).toBe(sha('abc.j1.1800000120'));
    expect(Buffer.from(challenge, 'base64url')).toHaveLength(32);
  });

  it('changes with each of the digest, the jti and the exp', async () => {
    const base = { dig: 'abc', jti: 'j1', exp: 100 };
    const all = await Promise.all([base, { ...base, dig: 'abd' }, { ...base, jti: 'j2' }, { ...base, exp: 101 }].map(presenceChallenge));
    expect(new Set(all).size).toBe(4);
  });
});

describe('enrollmentChallenge', () => {
  it('is base64url(SHA-256("countersign-enroll." kid)) and differs per device key', async () => {
    const a = await jwkThumbprint(await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey));
    const b = await jwkThumbprint(await exportEs256PublicJwk((await generateEs256KeyPair()).publicKey));
    expect(await enrollmentChallenge(a)).toBe(sha(`countersign-enroll.${a}`));
    expect(await enrollmentChallenge(a)).not.toBe(await enrollmentChallenge(b));
  });
});

describe('WebAuthnAssertion', () => {
  const good = { id: 'AAAA', ad: 'AAAA', cd: 'AAAA', sig: 'AAAA' };

  it('accepts exactly id, ad, cd and sig in base64url without padding', () => {
    expect(WebAuthnAssertion.safeParse(good).success).toBe(true);
  });

  it.each([
    ['an unknown member', { ...good, extra: 1 }],
    ['a missing signature', { id: 'AAAA', ad: 'AAAA', cd: 'AAAA' }],
    ['padding', { ...good, sig: 'AAA=' }],
    ['standard base64', { ...good, ad: 'AA+/' }],
    ['an empty member', { ...good, cd: '' }],
    ['an oversized clientDataJSON', { ...good, cd: 'A'.repeat(2049) }],
    ['a number', { ...good, id: 12 }],
  ])('refuses %s', (_what, value) => {
    expect(WebAuthnAssertion.safeParse(value).success).toBe(false);
  });
});

describe('WebAuthnRegistration', () => {
  it('accepts what an authenticator returns, and fills clientExtensionResults', () => {
    const reg = createAuthenticator().register('Y2hhbGxlbmdl');
    const { clientExtensionResults: _, ...bare } = reg;
    expect(WebAuthnRegistration.parse(bare).clientExtensionResults).toEqual({});
  });

  it('refuses a registration of another type or without an attestation', () => {
    const reg = createAuthenticator().register('Y2hhbGxlbmdl');
    expect(WebAuthnRegistration.safeParse({ ...reg, type: 'password' }).success).toBe(false);
    expect(WebAuthnRegistration.safeParse({ ...reg, response: { clientDataJSON: reg.response.clientDataJSON } }).success).toBe(false);
  });
});

describe('an approval minted with presence', () => {
  it('carries the drafted jti and exp, and a wa whose challenge is presenceChallenge of them', async () => {
    const pair = await generateEs256KeyPair();
    const draft = approvalDraft({ ttlSeconds: 60, now: 1_800_000_000 });
    expect(draft).toMatchObject({ iat: 1_800_000_000, exp: 1_800_000_060 });
    const dig = await actionDigest(REQUEST);
    const wa = await createAuthenticator().assert({ dig, jti: draft.jti, exp: draft.exp });
    const { token, claims } = await mintApprovalToken({
      privateKey: pair.privateKey, kid: 'k', deviceId: 'dev-1', userId: 'alice', request: REQUEST, agent: 'agent:access-helper',
      scope: 'admin.acl.write', traceId: newTraceId(), ttlSeconds: 60, now: draft.iat, jti: draft.jti, wa,
    });
    expect(claims).toMatchObject({ jti: draft.jti, exp: draft.exp, wa });
    expect(ApprovalClaims.parse(decodePart(token, 1)).wa).toEqual(wa);
    expect(assertionChallenge(wa)).toBe(await presenceChallenge({ dig, jti: draft.jti, exp: draft.exp }));
  });

  it('a token minted without an assertion has no wa claim at all', async () => {
    const pair = await generateEs256KeyPair();
    const { token } = await mintApprovalToken({ privateKey: pair.privateKey, kid: 'k', deviceId: 'dev-1', userId: 'alice', request: REQUEST, agent: 'agent:x', scope: 'forum.post', traceId: newTraceId() });
    expect(Object.hasOwn(decodePart(token, 1), 'wa')).toBe(false);
  });

  it('approvalDraft refuses a ttl out of range', () => {
    expect(() => approvalDraft({ ttlSeconds: 0 })).toThrow(TypeError);
    expect(() => approvalDraft({ ttlSeconds: 1.5 })).toThrow(TypeError);
  });
});

describe('assertionChallenge', () => {
  it('reads the challenge out of clientDataJSON, or undefined for what is not one', async () => {
    const a = createAuthenticator();
    expect(assertionChallenge(await a.assert('Y2hhbGxlbmdl'))).toBe('Y2hhbGxlbmdl');
    const notJson = { id: 'AAAA', ad: 'AAAA', cd: Buffer.from('not json').toString('base64url'), sig: 'AAAA' };
    expect(assertionChallenge(notJson)).toBeUndefined();
    const numeric = { ...notJson, cd: Buffer.from('{"challenge":7}').toString('base64url') };
    expect(assertionChallenge(numeric)).toBeUndefined();
  });
});
