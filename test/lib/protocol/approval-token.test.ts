// Approval tokens: a valid token passes; every bad-token case of DESIGN.md and SECURITY-CASES
// (J-, A-) fails with its code, in the documented order; the Wycheproof JWS cases through the
// verifier's own checks.
import { createHmac } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { verifyApprovalToken } from '@/lib/protocol/approval-token';
import { checkProtectedHeader, splitCompactJws, assertJwsSignature } from '@/lib/protocol/compact-jws';
import { encodeBase64url } from '@/lib/protocol/encoding';
import { importEs256PublicJwk } from '@/lib/protocol/es256';
import { TOKEN_CHECK_ORDER, TokenRejected } from '@/lib/protocol/errors';
import { NOW, REQUEST, SCOPE, decodePart, flipUnusedBits, makeWorld, malleate } from '../../helpers/approval-world';
import { ES256_JWS_TCIDS, range, readVector } from '../../helpers/vectors';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (e) {
    if (e instanceof TokenRejected || (e as { code?: string }).code) return (e as { code: string }).code;
    throw e;
  }
}

describe('a valid approval token', () => {
  it('verifies, binds the exact request, and consumes (iss, jti) once', async () => {
    const w = await makeWorld();
    const { token, claims } = await w.mint();
    const consume = vi.fn(() => true);
    const verified = await verifyApprovalToken(token, w.context({ consume }));
    expect(verified.claims).toEqual(claims);
    expect(verified.claims.aud).toBe('https://forum.corp.example');
    expect(decodePart(token, 0)).toEqual({ alg: 'ES256', typ: 'countersign-approval+jwt', kid: w.kid });
    expect(consume).toHaveBeenCalledExactlyOnceWith({ iss: 'dev-1', jti: claims.jti, expiresAt: claims.exp + 30, claims, digest: verified.digest, kid: w.kid, content: verified.content });
  });

  it('A-01: the same token presented twice is refused as replayed the second time', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    await verifyApprovalToken(token, w.context());
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('replayed');
  });

  it('A-04: an equivalent request (JSON key order, spacing, method case, fragment) is the same action', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    const request = { ...REQUEST, method: 'post', url: `${REQUEST.url}#x`, body: '{ "author_kind":"assistant", "body":"Try revoking the group grant." }' };
    expect(await codeOf(verifyApprovalToken(token, w.context({ request })))).toBe('accepted');
  });

  it('binds a person\'s own approval on an "always" route to user:<id>', async () => {
    const w = await makeWorld();
    const { token } = await w.mint({ agent: 'user:alice' });
    const ctx = w.context({ principal: { kind: 'user', id: 'alice' } });
    expect(await codeOf(verifyApprovalToken(token, ctx))).toBe('accepted');
  });
});

describe('J-: JWS attacks, each refused with its code', () => {
  const claimsFor = async (w: Awaited<ReturnType<typeof makeWorld>>) => decodePart((await w.mint()).token, 1);

  it.each(['none', 'NONE', 'NoNe'])('J-01: alg "%s" with a non-empty signature → alg_not_allowed, no key lookup', async (alg) => {
    const w = await makeWorld();
    const claims = await claimsFor(w);
    const token = `${encodeBase64url(JSON.stringify({ alg, typ: 'countersign-approval+jwt', kid: w.kid }))}.${encodeBase64url(JSON.stringify(claims))}.AAAA`;
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('alg_not_allowed');
    expect(w.lookups).toEqual([]);
    expect(w.consumed.size).toBe(0);
  });

  it('J-01: alg none with an empty signature → token_malformed (not even a compact JWS)', async () => {
    const w = await makeWorld();
    const token = `${encodeBase64url('{"alg":"none"}')}.${encodeBase64url(JSON.stringify(await claimsFor(w)))}.`;
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('token_malformed');
  });

  it('J-02: HS256 MACed with the ES256 public key → alg_not_allowed', async () => {
    const w = await makeWorld();
    const h = encodeBase64url(JSON.stringify({ alg: 'HS256', typ: 'countersign-approval+jwt', kid: w.kid }));
    const p = encodeBase64url(JSON.stringify(await claimsFor(w)));
    for (const secret of [JSON.stringify(w.jwk), Buffer.from(await crypto.subtle.exportKey('raw', w.pair.publicKey))]) {
      const mac = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
      expect(await codeOf(verifyApprovalToken(`${h}.${p}.${mac}`, w.context()))).toBe('alg_not_allowed');
    }
  });

  it.each(['ES384', 'ES512', 'RS256', 'PS256', 'EdDSA', 'HS256', 'es256', ''])('J-03: alg "%s" → alg_not_allowed', async (alg) => {
    const w = await makeWorld();
    const token = await w.signRaw({ alg, typ: 'countersign-approval+jwt', kid: w.kid }, await claimsFor(w));
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('alg_not_allowed');
  });

  it('J-04: an embedded jwk header with the attacker\'s own key → header_not_allowed', async () => {
    const w = await makeWorld();
    const token = await w.signRaw({ alg: 'ES256', typ: 'countersign-approval+jwt', kid: w.kid, jwk: w.jwk }, await claimsFor(w));
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('header_not_allowed');
  });

  it.each([
    ['jku', { jku: 'http://169.254.169.254/jwks' }],
    ['x5u', { x5u: 'http://localhost/cert' }],
    ['x5c', { x5c: ['MIIB'] }],
  ])('J-05: a %s header → header_not_allowed, with no outbound request', async (_name, extra) => {
    const w = await makeWorld();
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const token = await w.signRaw({ alg: 'ES256', typ: 'countersign-approval+jwt', kid: w.kid, ...extra }, await claimsFor(w));
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('header_not_allowed');
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
  });

  it.each([
    ['path traversal', '../../../../dev/null'],
    ['SQL', "' OR '1'='1"],
    ['10 KB', 'k'.repeat(10_000)],
    ['null', null],
    ['a number', 123],
    ['an object', {}],
    ['a look-alike of the real kid', 'LOOKALIKE'],
  ])('J-06: kid as %s → refused before any signature work', async (_name, kid) => {
    const w = await makeWorld();
    const lookalike = kid === 'LOOKALIKE' ? w.kid.replace(/^./, (c) => (c === 'A' ? 'Α' : 'А')) : kid;
    const token = await w.signRaw({ alg: 'ES256', typ: 'countersign-approval+jwt', kid: lookalike }, await claimsFor(w));
    const code = await codeOf(verifyApprovalToken(token, w.context()));
    expect(['key_unknown', 'token_malformed']).toContain(code);
  });

  it.each([
    ['crit ["exp"]', { crit: ['exp'] }],
    ['crit ["foo"] with foo', { crit: ['foo'], foo: 1 }],
    ['crit []', { crit: [] }],
    ['crit naming alg', { crit: ['alg'] }],
  ])('J-07: %s → header_not_allowed', async (_name, extra) => {
    const w = await makeWorld();
    const token = await w.signRaw({ alg: 'ES256', typ: 'countersign-approval+jwt', kid: w.kid, ...extra }, await claimsFor(w));
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('header_not_allowed');
  });

  it('J-08: b64:false with crit ["b64"] → header_not_allowed', async () => {
    const w = await makeWorld();
    const token = await w.signRaw({ alg: 'ES256', typ: 'countersign-approval+jwt', kid: w.kid, b64: false, crit: ['b64'] }, await claimsFor(w));
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('header_not_allowed');
  });

  it('J-18: zip:"DEF" → header_not_allowed, never decompressed', async () => {
    const w = await makeWorld();
    const token = await w.signRaw({ alg: 'ES256', typ: 'countersign-approval+jwt', kid: w.kid, zip: 'DEF' }, await claimsFor(w));
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('header_not_allowed');
  });

  it('J-09: a malleated (r, n−s) signature verifies, yet is refused as replayed: the key is (iss, jti)', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    const twin = malleate(token);
    expect(twin).not.toBe(token);
    expect(await codeOf(verifyApprovalToken(twin, w.context({ consume: () => true })))).toBe('accepted');
    await verifyApprovalToken(token, w.context());
    expect(await codeOf(verifyApprovalToken(twin, w.context()))).toBe('replayed');
  });

  it.each([
    ['DER-encoded', (s: Buffer) => Buffer.concat([Buffer.from([0x30, 0x44, 0x02, 0x20]), s.subarray(0, 32), Buffer.from([0x02, 0x20]), s.subarray(32)])],
    ['64 zero bytes (psychic signature)', () => Buffer.alloc(64)],
    ['63 bytes', (s: Buffer) => s.subarray(0, 63)],
    ['65 bytes', (s: Buffer) => Buffer.concat([s, Buffer.from([0])])],
    ['96 bytes', (s: Buffer) => Buffer.concat([s, Buffer.alloc(32)])],
    ['one bit flipped', (s: Buffer) => Buffer.from(s.map((b, i) => (i === 10 ? b ^ 1 : b)))],
  ])('J-09: a %s signature → signature_invalid', async (_name, mangle) => {
    const w = await makeWorld();
    const { token } = await w.mint();
    const [h, p, s] = token.split('.') as [string, string, string];
    const bad = `${h}.${p}.${mangle(Buffer.from(s, 'base64url')).toString('base64url')}`;
    expect(await codeOf(verifyApprovalToken(bad, w.context()))).toBe('signature_invalid');
    expect(w.consumed.size).toBe(0);
  });

  it.each([
    ['empty string', () => '', 'token_missing'],
    ['not a string', () => 42, 'token_missing'],
    ['"."', () => '.', 'token_malformed'],
    ['".."', () => '..', 'token_malformed'],
    ['"...."', () => '....', 'token_malformed'],
    ['two segments', (t: string) => t.split('.').slice(0, 2).join('.'), 'token_malformed'],
    ['four segments', (t: string) => `${t}.AAAA`, 'token_malformed'],
    ['five segments (JWE shape)', (t: string) => `${t}.AAAA.AAAA`, 'token_malformed'],
    ['missing payload', (t: string) => t.replace(/\.[^.]+\./, '..'), 'token_malformed'],
    ['1 MB', () => 'a'.repeat(1 << 20), 'token_malformed'],
    ['100,000 dots', () => '.'.repeat(100_000), 'token_malformed'],
  ])('J-10: structure %s → %s', async (_name, make, code) => {
    const w = await makeWorld();
    const { token } = await w.mint();
    expect(await codeOf(verifyApprovalToken(make(token), w.context()))).toBe(code);
  });

  it.each([
    ['a space inside the signature', (t: string) => t.replace(/(.{20})$/, ' $1')],
    ['a trailing space', (t: string) => `${t} `],
    ['a newline in the payload', (t: string) => t.replace('.', '.\n')],
    ['a tab in the header', (t: string) => `\t${t}`],
    ['= padding on the signature', (t: string) => `${t}=`],
    ['standard-alphabet + and /', (t: string) => `${t.slice(0, -3)}+/${t.slice(-1)}`],
    ['a ? inserted', (t: string) => t.replace('.', '?.')],
    ['non-zero unused bits in the signature', (t: string) => flipUnusedBits(t)],
  ])('J-11: %s → token_malformed (strict base64url)', async (_name, mangle) => {
    const w = await makeWorld();
    const { token } = await w.mint();
    const bad = mangle(token);
    if (bad === token) return expect.unreachable('mangling did not change the token');
    expect(await codeOf(verifyApprovalToken(bad, w.context()))).toBe('token_malformed');
  });

  it.each([
    ['a duplicate alg in the header', () => '{"alg":"none","alg":"ES256","typ":"countersign-approval+jwt","kid":"K"}', 'header'],
    ['a BOM before the header', () => '\uFEFF{"alg":"ES256","typ":"countersign-approval+jwt","kid":"K"}', 'header'],
    ['a payload that is an array', () => '[]', 'payload'],
    ['a payload that is a string', () => '"x"', 'payload'],
    ['a payload that is a number', () => '1', 'payload'],
    ['a duplicate claim', () => '{"sub":"alice","sub":"mallory"}', 'payload'],
  ])('J-12: %s → token_malformed', async (_name, text, where) => {
    const w = await makeWorld();
    const claims = await claimsFor(w);
    const header = { alg: 'ES256', typ: 'countersign-approval+jwt', kid: w.kid };
    const token = where === 'header' ? await w.signRaw(text().replace('"K"', JSON.stringify(w.kid)), claims) : await w.signRaw(header, text());
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('token_malformed');
  });

  it('J-12: invalid UTF-8 in the claims → token_malformed', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    const [h] = token.split('.') as [string];
    const p = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url');
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, w.pair.privateKey, Buffer.from(`${h}.${p}`));
    expect(await codeOf(verifyApprovalToken(`${h}.${p}.${Buffer.from(sig).toString('base64url')}`, w.context()))).toBe('token_malformed');
  });

  it.each([
    ['missing', undefined],
    ['"JWT"', 'JWT'],
    ['"at+jwt"', 'at+jwt'],
    ['the receipt type', 'countersign-receipt+jwt'],
    ['the log type', 'countersign-log+jwt'],
    ['different case', 'Countersign-Approval+JWT'],
  ])('J-13: typ %s → typ_invalid', async (_name, typ) => {
    const w = await makeWorld();
    const token = await w.signRaw({ alg: 'ES256', ...(typ ? { typ } : {}), kid: w.kid }, await claimsFor(w));
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('typ_invalid');
  });
});

describe('J-14/J-15/A-: claim checks, each refused with its code', () => {
  async function withClaims(patch: Record<string, unknown>, drop: string[] = []) {
    const w = await makeWorld();
    const claims = { ...decodePart((await w.mint()).token, 1), ...patch };
    for (const name of drop) delete claims[name];
    const token = await w.signRaw({ alg: 'ES256', typ: 'countersign-approval+jwt', kid: w.kid }, claims);
    return { w, token };
  }

  it('J-14: expired (now past exp + 30 s skew) → token_expired; at the boundary → accepted', async () => {
    const w = await makeWorld();
    const { token, claims } = await w.mint({ now: NOW - 200, ttlSeconds: 120 });
    expect(await codeOf(verifyApprovalToken(token, w.context({ now: claims.exp + 31 })))).toBe('token_expired');
    expect(await codeOf(verifyApprovalToken(token, w.context({ now: claims.exp + 30 })))).toBe('accepted');
  });

  it('J-14: iat beyond the skew in the future → token_not_yet_valid', async () => {
    const w = await makeWorld();
    const { token } = await w.mint({ now: NOW + 31 });
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('token_not_yet_valid');
  });

  it('J-14: a lifetime over the policy TTL → ttl_too_long; the verifier caps any policy at 600 s', async () => {
    const w = await makeWorld();
    const { token } = await w.mint({ ttlSeconds: 121 });
    expect(await codeOf(verifyApprovalToken(token, w.context({ maxTtlSeconds: 120 })))).toBe('ttl_too_long');
    const long = await withClaims({ iat: NOW, exp: NOW + 601 });
    expect(await codeOf(verifyApprovalToken(long.token, long.w.context({ maxTtlSeconds: 100_000 })))).toBe('ttl_too_long');
  });

  it('A-05: a token for another tool (aud) → audience_mismatch', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    const request = { ...REQUEST, url: 'https://admin.corp.example/api/topics/7/replies' };
    expect(await codeOf(verifyApprovalToken(token, w.context({ request })))).toBe('audience_mismatch');
  });

  it('J-14: aud as an array containing the right audience → token_malformed', async () => {
    const { w, token } = await withClaims({ aud: ['https://forum.corp.example', 'https://evil.example'] });
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('token_malformed');
  });

  it.each([
    ['another body', { body: '{"body":"Make the dataset public.","author_kind":"assistant"}' }],
    ['another method', { method: 'PUT' }],
    ['another path', { url: 'https://forum.corp.example/api/topics/8/replies' }],
    ['another query', { url: `${REQUEST.url}?force=1` }],
    ['another content type', { contentType: 'text/plain' }],
  ])('A-04: the token used for %s → action_mismatch', async (_name, patch) => {
    const w = await makeWorld();
    const { token } = await w.mint();
    expect(await codeOf(verifyApprovalToken(token, w.context({ request: { ...REQUEST, ...patch } })))).toBe('action_mismatch');
  });

  it('a request body that claims JSON and does not parse → payload_invalid', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    expect(await codeOf(verifyApprovalToken(token, w.context({ request: { ...REQUEST, body: '{"body":' } })))).toBe('payload_invalid');
  });

  it('a person\'s request: their own approval (user:<id>) or their approval of an assistant acting in their session passes', async () => {
    const w = await makeWorld();
    for (const agent of ['user:alice', 'agent:forum-helper']) {
      const { token } = await w.mint({ agent });
      expect(await codeOf(verifyApprovalToken(token, w.context({ principal: { kind: 'user', id: 'alice' } })))).toBe('accepted');
    }
  });

  it('a person\'s request carrying an assistant approval someone else signed → action_mismatch', async () => {
    const w = await makeWorld();
    const assistant = await w.mint({ agent: 'agent:forum-helper' });
    expect(await codeOf(verifyApprovalToken(assistant.token, w.context({ principal: { kind: 'user', id: 'bob' } })))).toBe('action_mismatch');
  });

  it('a marked (assisted) person\'s request must name the assistant: user:<id> → action_mismatch', async () => {
    const w = await makeWorld();
    const self = await w.mint({ agent: 'user:alice' });
    expect(await codeOf(verifyApprovalToken(self.token, w.context({ principal: { kind: 'user', id: 'alice' }, assisted: true })))).toBe('action_mismatch');
    const assistant = await w.mint({ agent: 'agent:forum-helper' });
    expect(await codeOf(verifyApprovalToken(assistant.token, w.context({ principal: { kind: 'user', id: 'alice' }, assisted: true })))).toBe('accepted');
  });

  it('a token for another agent than the tool\'s principal → action_mismatch', async () => {
    const w = await makeWorld();
    const { token } = await w.mint({ agent: 'agent:forum-helper' });
    const ctx = w.context({ principal: { kind: 'agent', id: 'agent:access-bot' } });
    expect(await codeOf(verifyApprovalToken(token, ctx))).toBe('action_mismatch');
  });

  it('J-14: a kid that belongs to another approver (sub) → key_unknown', async () => {
    const { w, token } = await withClaims({ sub: 'mallory' });
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('key_unknown');
  });

  it('J-14: iss that is not the key\'s device → key_unknown', async () => {
    const { w, token } = await withClaims({ iss: 'dev-2' });
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('key_unknown');
  });

  it('an unknown kid → key_unknown', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    expect(await codeOf(verifyApprovalToken(token, w.context({ lookupKey: () => undefined })))).toBe('key_unknown');
  });

  it('A-09: a revoked key → key_revoked, even for an unexpired token', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    expect(await codeOf(verifyApprovalToken(token, w.context({ lookupKey: () => ({ ...w.key, revoked: true }) })))).toBe('key_revoked');
  });

  it.each([
    ['exp as a string', { exp: String(NOW + 60) }],
    ['exp as 1e309 (sent as a string)', { exp: '1e309' }],
    ['exp as NaN (sent as a string)', { exp: 'NaN' }],
    ['a fractional exp', { exp: NOW + 60.5 }],
    ['a negative iat', { iat: -1 }],
    ['iat equal to exp', { iat: NOW, exp: NOW }],
    ['an empty jti', { jti: '' }],
    ['a numeric jti', { jti: 12345 }],
    ['a 10 KB jti', { jti: 'j'.repeat(10_000) }],
    ['a trace id in upper case', { trc: 'A'.repeat(32) }],
    ['an unknown claim (nbf)', { nbf: NOW }],
  ])('J-15: %s → token_malformed', async (_name, patch) => {
    const { w, token } = await withClaims(patch);
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('token_malformed');
  });

  it.each(['exp', 'jti', 'act', 'agt', 'scp', 'trc'])('J-14: a missing %s claim → token_malformed', async (name) => {
    const { w, token } = await withClaims({}, [name]);
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('token_malformed');
  });

  it('A-07: a token issued before the verifier\'s boot epoch → token_expired (a crash never reopens it)', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    expect(await codeOf(verifyApprovalToken(token, w.context({ bootEpoch: NOW + 1 })))).toBe('token_expired');
  });

  it('an agent approving itself → self_approval', async () => {
    const w = await makeWorld();
    const { token } = await w.mint({ agent: 'alice' });
    expect(await codeOf(verifyApprovalToken(token, w.context()))).toBe('self_approval');
  });

  it.each(['approver_not_authorized', 'site_blocked', 'self_approval'] as const)('a policy refusal %s is the code returned', async (refusal) => {
    const w = await makeWorld();
    const { token } = await w.mint();
    const authorize = vi.fn(() => refusal);
    expect(await codeOf(verifyApprovalToken(token, w.context({ authorize })))).toBe(refusal);
    expect(authorize).toHaveBeenCalledWith({ sub: 'alice', agt: 'agent:forum-helper', scp: 'forum.post', site: 'https://forum.corp.example', facts: expect.objectContaining({ method: expect.any(String), path: expect.any(String) }) });
  });

  it('an engaged kill switch → kill_switch_engaged', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    expect(await codeOf(verifyApprovalToken(token, w.context({ kills: () => [{ engaged: true, since: 0 }] })))).toBe('kill_switch_engaged');
  });

  it('a kill voids every token issued before it, also after it is lifted (no skew allowance)', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    const lifted = (since: number) => w.context({ kills: () => [{ engaged: false, since }] });
    expect(await codeOf(verifyApprovalToken(token, lifted(NOW * 1000)))).toBe('kill_switch_engaged');
    expect(await codeOf(verifyApprovalToken(token, lifted(NOW * 1000 + 500)))).toBe('kill_switch_engaged');
    expect(await codeOf(verifyApprovalToken(token, lifted(NOW * 1000 - 1)))).toBe('accepted');
  });
});

describe('the route\'s scope binds the token (scp)', () => {
  it('scope confusion: a forum.post token on the admin.acl.write route → action_mismatch, nothing consumed, no policy asked', async () => {
    const w = await makeWorld();
    const { token } = await w.mint({ scope: 'forum.post' });
    const consume = vi.fn(() => true);
    const authorize = vi.fn(() => undefined);
    const error = await verifyApprovalToken(token, w.context({ scope: 'admin.acl.write', consume, authorize })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'action_mismatch', message: expect.stringContaining('scope') });
    expect(consume).not.toHaveBeenCalled();
    expect(authorize).not.toHaveBeenCalled();
  });

  it.each([
    ['admin.acl.write', 'forum.post'],
    ['forum.post', 'forum.post.edit'],
    ['forum.post', 'Forum.post'],
    ['forum.post', 'forum.pos'],
  ])('a token for %s on a %s route → action_mismatch (exact comparison)', async (scp, route) => {
    const w = await makeWorld();
    const { token } = await w.mint({ scope: scp });
    expect(await codeOf(verifyApprovalToken(token, w.context({ scope: route })))).toBe('action_mismatch');
  });

  it('the same scope passes, and policy is asked about that scope', async () => {
    const w = await makeWorld();
    const { token } = await w.mint({ scope: 'admin.acl.write' });
    const authorize = vi.fn(() => undefined);
    expect(await codeOf(verifyApprovalToken(token, w.context({ scope: 'admin.acl.write', authorize })))).toBe('accepted');
    expect(authorize).toHaveBeenCalledWith(expect.objectContaining({ scp: 'admin.acl.write' }));
  });

  it('in DESIGN.md\'s order: after the signature, time, audience and act checks; before principal, policy, kill switch and replay', async () => {
    const w = await makeWorld();
    const { token } = await w.mint({ scope: 'forum.post' });
    const onAdminRoute = (o: Parameters<typeof w.context>[0] = {}) => w.context({ scope: 'admin.acl.write', ...o });
    // Earlier checks decide first.
    const bad = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BAAA' : 'AAAA');
    expect(await codeOf(verifyApprovalToken(bad, onAdminRoute()))).toBe('signature_invalid');
    expect(await codeOf(verifyApprovalToken(token, onAdminRoute({ now: NOW + 1000 })))).toBe('token_expired');
    expect(await codeOf(verifyApprovalToken(token, onAdminRoute({ request: { ...REQUEST, url: 'https://admin.corp.example/api/acl' } })))).toBe('audience_mismatch');
    const otherBody = await verifyApprovalToken(token, onAdminRoute({ request: { ...REQUEST, body: '{}' } })).catch((e: Error) => e);
    expect(otherBody).toMatchObject({ code: 'action_mismatch', message: 'token approves a different request' });
    // Later checks never get a say.
    const everythingLater = onAdminRoute({
      principal: { kind: 'agent', id: 'agent:other' },
      authorize: () => 'approver_not_authorized',
      kills: () => [{ engaged: true, since: 0 }],
      consume: () => false,
      contentField: '/body',
    });
    const error = await verifyApprovalToken(token, everythingLater).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'action_mismatch', message: expect.stringContaining('scope') });
  });
});

describe('the receipt\'s content is read from the digested body (contentField)', () => {
  it('a JSON pointer reads the post\'s text from the approved body', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    const verified = await verifyApprovalToken(token, w.context({ contentField: '/body' }));
    expect(verified.content).toBe('Try revoking the group grant.');
  });

  it('no contentField → no content; a field the body lacks → null', async () => {
    const w = await makeWorld();
    expect((await verifyApprovalToken((await w.mint()).token, w.context())).content).toBeNull();
    expect((await verifyApprovalToken((await w.mint()).token, w.context({ contentField: '/post/text' }))).content).toBeNull();
  });

  it('a nested pointer and a form field name read the same way', async () => {
    const w = await makeWorld();
    const nested = { ...REQUEST, body: '{"post":{"text":"Nested text"},"author_kind":"assistant"}' };
    expect((await verifyApprovalToken((await w.mint({ request: nested })).token, w.context({ request: nested, contentField: '/post/text' }))).content).toBe('Nested text');
    const form = { ...REQUEST, contentType: 'application/x-www-form-urlencoded', body: 'body=Form+text&author_kind=assistant&countersign_approval=x' };
    for (const field of ['body', '/body']) {
      const verified = await verifyApprovalToken((await w.mint({ request: form })).token, w.context({ request: form, contentField: field }));
      expect(verified.content).toBe('Form text');
    }
  });

  it('a repeated form content field → payload_invalid, after the act check, and nothing consumed', async () => {
    const w = await makeWorld();
    const form = { ...REQUEST, contentType: 'application/x-www-form-urlencoded', body: 'body=What+was+shown&body=What+runs&author_kind=assistant' };
    const { token } = await w.mint({ request: form });
    const consume = vi.fn(() => true);
    const error = await verifyApprovalToken(token, w.context({ request: form, contentField: 'body', consume })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'payload_invalid', field: 'request.body' });
    expect(consume).not.toHaveBeenCalled();
    // Not consumed: the token binds this very body, so only a route that reads no text from it can
    // still use it, once.
    expect(await codeOf(verifyApprovalToken(token, w.context({ request: form })))).toBe('accepted');
  });

  it('a repeated content field on a request the token does not approve → action_mismatch (act first)', async () => {
    const w = await makeWorld();
    const form = { ...REQUEST, contentType: 'application/x-www-form-urlencoded', body: 'body=A&body=B' };
    const { token } = await w.mint();
    expect(await codeOf(verifyApprovalToken(token, w.context({ request: form, contentField: 'body' })))).toBe('action_mismatch');
  });

  it('a repeated multipart content field → payload_invalid', async () => {
    const w = await makeWorld();
    const part = (name: string, value: string) => `--XyZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const request = { ...REQUEST, contentType: 'multipart/form-data; boundary=XyZ', body: `${part('body', 'one')}${part('body', 'two')}--XyZ--\r\n` };
    const { token } = await w.mint({ request });
    expect(await codeOf(verifyApprovalToken(token, w.context({ request, contentField: 'body' })))).toBe('payload_invalid');
  });
});

describe('check order: the first failing check decides, and a forged token costs no write', () => {
  it('J-16: a bad signature on an expired token → signature_invalid, nothing consumed', async () => {
    const w = await makeWorld();
    const { token } = await w.mint({ now: NOW - 10_000 });
    const consume = vi.fn(() => true);
    const bad = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BAAA' : 'AAAA');
    expect(await codeOf(verifyApprovalToken(bad, w.context({ consume })))).toBe('signature_invalid');
    expect(consume).not.toHaveBeenCalled();
  });

  it('audience before action, action before policy, policy before kill switch, kill switch before replay', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    const everythingWrong = w.context({
      request: { ...REQUEST, url: 'https://admin.corp.example/x', body: '{}' },
      authorize: () => 'approver_not_authorized',
      kills: () => [{ engaged: true, since: 0 }],
      consume: () => false,
    });
    expect(await codeOf(verifyApprovalToken(token, everythingWrong))).toBe('audience_mismatch');
    expect(await codeOf(verifyApprovalToken(token, { ...everythingWrong, request: { ...REQUEST, body: '{}' } }))).toBe('action_mismatch');
    expect(await codeOf(verifyApprovalToken(token, { ...everythingWrong, request: REQUEST }))).toBe('approver_not_authorized');
    expect(await codeOf(verifyApprovalToken(token, { ...everythingWrong, request: REQUEST, authorize: () => undefined }))).toBe('kill_switch_engaged');
    expect(await codeOf(verifyApprovalToken(token, { ...everythingWrong, request: REQUEST, authorize: () => undefined, kills: () => [] }))).toBe('replayed');
  });

  it('kill switch before presence, presence before replay; the presence step sees the verified claims and the recomputed digest', async () => {
    const w = await makeWorld();
    const { token, claims } = await w.mint();
    const refuse = vi.fn((): void => {
      throw new TokenRejected('presence_required', 'no assertion');
    });
    const killed = w.context({ kills: () => [{ engaged: true, since: 0 }], presence: refuse, consume: () => false });
    expect(await codeOf(verifyApprovalToken(token, killed))).toBe('kill_switch_engaged');
    expect(refuse).not.toHaveBeenCalled();
    const consume = vi.fn(() => false);
    expect(await codeOf(verifyApprovalToken(token, w.context({ presence: refuse, consume })))).toBe('presence_required');
    expect(consume).not.toHaveBeenCalled();
    expect(refuse).toHaveBeenCalledWith(expect.objectContaining({ claims, digest: claims.act.dig }));
    expect(await codeOf(verifyApprovalToken(token, w.context({ presence: () => undefined, consume })))).toBe('replayed');
    expect(TOKEN_CHECK_ORDER.indexOf('presence_required')).toBeGreaterThan(TOKEN_CHECK_ORDER.indexOf('kill_switch_engaged'));
    expect(TOKEN_CHECK_ORDER.indexOf('presence_invalid')).toBeLessThan(TOKEN_CHECK_ORDER.indexOf('replayed'));
  });

  it('every code a token check can raise is in TOKEN_CHECK_ORDER', () => {
    expect(TOKEN_CHECK_ORDER).toEqual(expect.arrayContaining(['token_malformed', 'alg_not_allowed', 'typ_invalid', 'header_not_allowed', 'key_unknown', 'key_revoked', 'signature_invalid', 'replayed']));
  });

  it('never puts the token in an error message', async () => {
    const w = await makeWorld();
    const { token } = await w.mint();
    const error = await verifyApprovalToken(token, w.context({ request: { ...REQUEST, body: '{}' } })).catch((e: Error) => e);
    expect(String((error as Error).message)).not.toContain(token.split('.')[2]);
    expect(String((error as Error).message)).not.toContain(token.split('.')[1]);
  });
});

interface JwsTest { tcId: number; comment: string; jws: string | object; result: 'valid' | 'invalid' }
interface JwsGroup { comment: string; public?: Record<string, unknown>; tests: JwsTest[] }
const jwsFile = readVector<{ testGroups: JwsGroup[] }>('wycheproof/json_web_signature_test.json');
const es256Cases = jwsFile.testGroups.flatMap((group) => group.tests.filter((t) => ES256_JWS_TCIDS.has(t.tcId)).map((t) => ({ ...t, group })));

describe('Wycheproof json_web_signature ES256 cases (tcId 18–32, 354, 356, 378–401)', () => {
  it('has all 41 cases', () => expect(es256Cases).toHaveLength(41));

  // Through the verifier's own JWS checks (strict split, header allow-list with no typ required,
  // key hygiene, P1363 signature). Labels are used as they are: no override is needed here.
  it.each(es256Cases)('tcId $tcId ($comment): $result', async ({ jws, group, result }) => {
    const accepted = await (async () => {
      const split = splitCompactJws(jws);
      checkProtectedHeader(split.header, null);
      const key = await importEs256PublicJwk(group.public);
      await assertJwsSignature({ ...split, header: { alg: 'ES256', typ: 'countersign-approval+jwt', kid: 'x' }, payload: {} }, key);
      return true;
    })().catch((e: unknown) => {
      if (!(e instanceof Error) || !('code' in e)) throw e;
      return false;
    });
    expect(accepted).toBe(result === 'valid');
  });

  // Through verifyApprovalToken itself. Label overrides: tcId 18 and 378 are valid JWS but not
  // approval tokens (no `typ`, payload "foo" is not a claims set), so the token verifier refuses
  // them with token_malformed; every invalid case must be refused too.
  it.each(es256Cases)('tcId $tcId is refused by the approval-token verifier', async ({ tcId, jws, group }) => {
    const publicKey = await importEs256PublicJwk(group.public).catch(() => undefined);
    const code = await codeOf(
      verifyApprovalToken(jws, {
        lookupKey: (kid) => (publicKey ? { kid, deviceId: 'd', userId: 'u', revoked: false, publicKey } : undefined),
        request: REQUEST,
        scope: SCOPE,
        now: NOW,
        authorize: () => undefined,
        kills: () => [],
        presence: () => undefined,
      }),
    );
    expect(code).not.toBe('accepted');
    if (tcId === 18 || tcId === 378) expect(code).toBe('token_malformed');
  });
});

describe('Wycheproof json_web_signature "base64" group through the strict compact form (J-11)', () => {
  const base64Cases = jwsFile.testGroups.filter((g) => g.comment === 'base64').flatMap((g) => g.tests);
  // Label overrides (shared/vectors/wycheproof/README.md): 367 and 370 are labelled invalid but are
  // byte-identical to valid 357; 372 and 373 are labelled valid although a `?` is inserted, which a
  // strict verifier refuses.
  const OVERRIDES: Record<number, 'valid' | 'invalid'> = { 367: 'valid', 370: 'valid', 372: 'invalid', 373: 'invalid' };

  it('has the 21 cases 357–377', () => expect(base64Cases.map((t) => t.tcId)).toEqual(range(357, 377)));

  it.each(base64Cases)('tcId $tcId ($comment): labelled $result', ({ tcId, jws, result }) => {
    const expected = OVERRIDES[tcId] ?? result;
    const accepted = (() => {
      try {
        splitCompactJws(jws);
        return true;
      } catch {
        return false;
      }
    })();
    expect(accepted).toBe(expected === 'valid');
  });
});
