// The device key: non-extractable P-256, made once, kept across service-worker restarts (E-09).
import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { CountersignDb, useDatabase } from '@/lib/extension/db';
import { deviceKey } from '@/lib/extension/device-key';
import { decodeBase64urlStrict, importEs256PublicJwk, jwkThumbprint, mintApprovalToken, newTraceId, utf8, verifyEs256 } from '@/lib/protocol';

let name: string;
beforeEach(() => {
  name = `cs-test-${crypto.randomUUID()}`;
  useDatabase(new CountersignDb(name));
});

describe('device key', () => {
  it('is a non-extractable ECDSA P-256 signing key whose kid is the RFC 7638 thumbprint', async () => {
    const key = await deviceKey();
    expect(key.privateKey.extractable).toBe(false);
    expect(key.privateKey.usages).toEqual(['sign']);
    expect(key.privateKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(key.kid).toBe(await jwkThumbprint(key.publicJwk));
  });

  it('E-09: exporting the private key throws', async () => {
    const key = await deviceKey();
    await expect(crypto.subtle.exportKey('jwk', key.privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('pkcs8', key.privateKey)).rejects.toThrow();
  });

  it('is made once, also when first asked twice at the same time', async () => {
    const [a, b] = await Promise.all([deviceKey(), deviceKey()]);
    expect(a.kid).toBe(b.kid);
    expect((await deviceKey()).kid).toBe(a.kid);
  });

  it('survives a service-worker restart (a new database handle) and still signs verifiably', async () => {
    const before = await deviceKey();
    useDatabase(new CountersignDb(name));
    const after = await deviceKey();
    expect(after.kid).toBe(before.kid);
    expect(after.privateKey.extractable).toBe(false);
    const data = new TextEncoder().encode('approve');
    const sig = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, after.privateKey, data));
    expect(sig).toHaveLength(64);
    expect(await verifyEs256(await importEs256PublicJwk(before.publicJwk), data, sig)).toBe(true);
  });

  it('E-10: every approval token it signs (10,000 requests) carries a 64-byte P1363 signature that the verifier\'s check accepts', async () => {
    const key = await deviceKey();
    const publicKey = await importEs256PublicJwk(key.publicJwk);
    let signed = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'), fc.nat(1000), async (text, method, topic) => {
        const { token } = await mintApprovalToken({
          privateKey: key.privateKey,
          kid: key.kid,
          deviceId: 'dev-1',
          userId: 'alice',
          request: { method, url: `http://127.0.0.1:8080/api/topics/${topic}/replies`, contentType: 'application/json', body: JSON.stringify({ body: text }) },
          agent: 'agent:forum-helper',
          scope: 'forum.post',
          traceId: newTraceId(),
          ttlSeconds: 60,
        });
        const [header, payload, signature] = token.split('.');
        const bytes = decodeBase64urlStrict(signature!);
        expect(bytes?.length).toBe(64);
        expect(await verifyEs256(publicKey, utf8(`${header}.${payload}`), bytes!)).toBe(true);
        signed++;
      }),
      { numRuns: 10_000 },
    );
    expect(signed).toBe(10_000);
  });
});
