// The verifier's node:crypto backend gives Web Crypto's answers: all 262 Wycheproof P1363 cases through
// verifyEs256 with it installed, signatures from each backend checked by the other, SHA-256 equal on any
// input, and keys of the wrong kind or usage refused as Web Crypto refuses them. buildApp installs it.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ECDSA_P256, generateEs256KeyPair, importEs256PublicJwk, protocolCrypto, sha256, signCompactJws, useProtocolCrypto, verifyEs256, WEB_CRYPTO } from '@/lib/protocol';
import { parseCompactJws, assertJwsSignature, JWS_TYP } from '@/lib/protocol';
import { NODE_CRYPTO, useNodeCrypto } from '../../server/node-crypto';
import { hexToBytes, readVector } from '../helpers/vectors';

interface P1363Test { tcId: number; comment: string; msg: string; sig: string; result: 'valid' | 'invalid' }
interface P1363Group { publicKeyJwk?: Record<string, string>; publicKeyDer: string; tests: P1363Test[] }
const p1363 = readVector<{ testGroups: P1363Group[] }>('wycheproof/ecdsa_secp256r1_sha256_p1363_test.json');
const cases = p1363.testGroups.flatMap((group, g) => group.tests.map((t) => ({ ...t, g })));

function groupKey(group: P1363Group): Promise<CryptoKey> {
  if (group.publicKeyJwk) return importEs256PublicJwk(group.publicKeyJwk);
  return crypto.subtle.importKey('spki', hexToBytes(group.publicKeyDer) as Uint8Array<ArrayBuffer>, ECDSA_P256, false, ['verify']);
}

afterEach(() => useProtocolCrypto(WEB_CRYPTO));

describe('Wycheproof ecdsa_secp256r1_sha256_p1363 through verifyEs256 on node:crypto', () => {
  it.each(cases)('tcId $tcId ($comment): $result', async ({ g, msg, sig, result }) => {
    useNodeCrypto();
    expect(protocolCrypto().name).toBe('node:crypto');
    const key = await groupKey(p1363.testGroups[g]!);
    expect(await verifyEs256(key, hexToBytes(msg), hexToBytes(sig))).toBe(result === 'valid');
  });
});

describe('node:crypto and Web Crypto agree', () => {
  it('a compact JWS signed by either backend verifies under the other; a changed byte verifies under neither', async () => {
    const pair = await generateEs256KeyPair();
    for (const [signer, checker] of [[NODE_CRYPTO, WEB_CRYPTO], [WEB_CRYPTO, NODE_CRYPTO]] as const) {
      useProtocolCrypto(signer);
      const token = await signCompactJws(pair.privateKey, { typ: JWS_TYP.receipt, kid: 'k1' }, { iss: 'test', n: 1 });
      useProtocolCrypto(checker);
      const parsed = parseCompactJws(token, JWS_TYP.receipt);
      expect(parsed.header).toEqual({ alg: 'ES256', typ: JWS_TYP.receipt, kid: 'k1' });
      await expect(assertJwsSignature(parsed, pair.publicKey)).resolves.toBeUndefined();
      const tampered = { ...parsed, signingInput: parsed.signingInput.map((b, i) => (i === 5 ? b ^ 1 : b)) };
      await expect(assertJwsSignature(tampered, pair.publicKey)).rejects.toMatchObject({ code: 'signature_invalid' });
    }
  });

  it('property: base64url is the same both ways on any bytes, and each decodes the other', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const web = WEB_CRYPTO.base64urlEncode(bytes);
        expect(NODE_CRYPTO.base64urlEncode(bytes)).toBe(web);
        expect(NODE_CRYPTO.base64urlDecode(web)).toEqual(bytes);
        // A view into a larger buffer encodes only its own bytes.
        const inside = new Uint8Array([9, ...bytes, 9]).subarray(1, bytes.length + 1);
        expect(NODE_CRYPTO.base64urlEncode(inside)).toBe(web);
      }),
      { numRuns: 300 },
    );
  });

  it('pooled random bytes are never handed out twice: 20,000 jti-sized draws across many pool refills are distinct', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(Buffer.from(NODE_CRYPTO.randomBytes(16)).toString('hex'));
    expect(seen.size).toBe(20_000);
    // A draw kept across refills keeps its bytes (a refill makes a new block, never reuses the old one).
    const kept = NODE_CRYPTO.randomBytes(16);
    const copy = Uint8Array.from(kept);
    for (let i = 0; i < 1_000; i++) NODE_CRYPTO.randomBytes(16);
    expect(kept).toEqual(copy);
    expect(NODE_CRYPTO.randomBytes(10_000)).toHaveLength(10_000);
  });

  it('property: SHA-256 is the same on any bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const web = await WEB_CRYPTO.sha256(bytes);
        expect(NODE_CRYPTO.sha256(bytes)).toEqual(web);
      }),
      { numRuns: 300 },
    );
    useNodeCrypto();
    expect(Buffer.from(await sha256('abc')).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('attack: a key of the wrong usage or kind is refused by both (a signing key used to verify, a public key used to sign, an HMAC key)', async () => {
    const pair = await generateEs256KeyPair();
    const hmac = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    const data = new Uint8Array([1, 2, 3]);
    const signature = await WEB_CRYPTO.signEs256(pair.privateKey, data);
    for (const backend of [WEB_CRYPTO, NODE_CRYPTO]) {
      await expect(Promise.resolve().then(() => backend.verifyEs256(pair.privateKey, data, signature)), backend.name).rejects.toThrow();
      await expect(Promise.resolve().then(() => backend.verifyEs256(hmac, data, signature)), backend.name).rejects.toThrow();
      await expect(Promise.resolve().then(() => backend.signEs256(pair.publicKey, data)), backend.name).rejects.toThrow();
      useProtocolCrypto(backend);
      // Through the protocol's one check: false, never an exception.
      expect(await verifyEs256(pair.privateKey, data, signature)).toBe(false);
      expect(await verifyEs256(pair.publicKey, data, signature)).toBe(true);
    }
  });
});
