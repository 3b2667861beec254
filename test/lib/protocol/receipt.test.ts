// Provenance receipts: minted by the verifier, checked by readers; every failure state of a badge.
import { describe, expect, it } from 'vitest';
import { normaliseContent, contentDigest } from '@/lib/protocol/content';
import { signCompactJws } from '@/lib/protocol/compact-jws';
import { generateEs256KeyPair } from '@/lib/protocol/es256';
import { newTraceId } from '@/lib/protocol/encoding';
import { mintReceipt, verifyReceipt } from '@/lib/protocol/receipt';

const ISSUER = 'https://verifier.corp.example';
const POST = 'Try revoking the  group grant.\n\nThen re-add members.';

async function setup() {
  const verifierKey = await generateEs256KeyPair();
  const { receipt, claims } = await mintReceipt({
    privateKey: verifierKey.privateKey,
    kid: 'rk-1',
    issuer: ISSUER,
    agent: 'agent:forum-helper',
    approver: 'alice',
    traceId: newTraceId(),
    digest: 'A'.repeat(43),
    policyVersion: 'v1',
    content: POST,
  });
  const keys = new Map([['rk-1', verifierKey.publicKey]]);
  const ctx = { lookupKey: (kid: string) => keys.get(kid), issuer: ISSUER };
  return { verifierKey, receipt, claims, keys, ctx };
}

describe('receipts', () => {
  it('verify with the verifier key, the issuer and the post as rendered (whitespace-normalised)', async () => {
    const { receipt, claims, ctx } = await setup();
    const rendered = '  Try revoking the group grant. Then re-add members.  ';
    const verified = await verifyReceipt(receipt, { ...ctx, content: rendered });
    expect(verified.claims).toEqual(claims);
    expect(verified.header.typ).toBe('countersign-receipt+jwt');
    expect(claims).toMatchObject({ sub: 'agent:forum-helper', apv: 'alice', pol: 'v1', cdg: await contentDigest(POST) });
  });

  it('invalid: content edited after approval → action_mismatch', async () => {
    const { receipt, ctx } = await setup();
    await expect(verifyReceipt(receipt, { ...ctx, content: 'Make the dataset public.' })).rejects.toMatchObject({ code: 'action_mismatch' });
  });

  it('invalid: a receipt without cdg cannot vouch for a post → action_mismatch', async () => {
    const { verifierKey, ctx } = await setup();
    const { receipt } = await mintReceipt({
      privateKey: verifierKey.privateKey, kid: 'rk-1', issuer: ISSUER, agent: 'a', approver: 'b',
      traceId: newTraceId(), digest: 'A'.repeat(43), policyVersion: 'v1',
    });
    await expect(verifyReceipt(receipt, { ...ctx, content: POST })).rejects.toMatchObject({ code: 'action_mismatch' });
  });

  it('invalid: signed by a foreign key under a known kid → signature_invalid', async () => {
    const { claims, ctx } = await setup();
    const foreign = await generateEs256KeyPair();
    const forged = await signCompactJws(foreign.privateKey, { typ: 'countersign-receipt+jwt', kid: 'rk-1' }, claims);
    await expect(verifyReceipt(forged, ctx)).rejects.toMatchObject({ code: 'signature_invalid' });
  });

  it('invalid: an unknown kid → key_unknown', async () => {
    const { claims, ctx } = await setup();
    const foreign = await generateEs256KeyPair();
    const forged = await signCompactJws(foreign.privateKey, { typ: 'countersign-receipt+jwt', kid: 'rk-evil' }, claims);
    await expect(verifyReceipt(forged, ctx)).rejects.toMatchObject({ code: 'key_unknown' });
  });

  it('invalid: a receipt from another issuer → key_unknown', async () => {
    const { receipt, ctx } = await setup();
    await expect(verifyReceipt(receipt, { ...ctx, issuer: 'https://other.example' })).rejects.toMatchObject({ code: 'key_unknown' });
  });

  it('invalid: an approval token offered as a receipt → typ_invalid (J-13: one validation rule per kind)', async () => {
    const { verifierKey, claims, ctx } = await setup();
    const wrongKind = await signCompactJws(verifierKey.privateKey, { typ: 'countersign-approval+jwt', kid: 'rk-1' }, claims);
    await expect(verifyReceipt(wrongKind, ctx)).rejects.toMatchObject({ code: 'typ_invalid' });
  });

  it('invalid: claims outside the schema → token_malformed', async () => {
    const { verifierKey, claims, ctx } = await setup();
    const odd = await signCompactJws(verifierKey.privateKey, { typ: 'countersign-receipt+jwt', kid: 'rk-1' }, { ...claims, apv: 7 });
    await expect(verifyReceipt(odd, ctx)).rejects.toMatchObject({ code: 'token_malformed' });
  });
});

describe('content normalisation', () => {
  it.each([
    ['NFC', 'e\u0301', '\u00e9'],
    ['collapses runs of whitespace, tabs, newlines and NBSP', 'a \t\n\u00a0 b', 'a b'],
    ['trims', '  a  ', 'a'],
    ['keeps inner punctuation', 'a.b', 'a.b'],
  ])('%s', (_name, input, output) => {
    expect(normaliseContent(input)).toBe(output);
  });

  it('gives equal digests for renderings that differ only in whitespace and composition', async () => {
    expect(await contentDigest('Cafe\u0301  au\nlait')).toBe(await contentDigest('Café au lait'));
    expect(await contentDigest('Café au lait')).not.toBe(await contentDigest('Cafe au lait'));
  });
});
