// The device key: non-extractable P-256, made once, kept across service-worker restarts (E-09).
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { CountersignDb, useDatabase } from '@/lib/extension/db';
import { deviceKey } from '@/lib/extension/device-key';
import { importEs256PublicJwk, jwkThumbprint, verifyEs256 } from '@/lib/protocol';

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
});
