// The device key: a non-extractable ECDSA P-256 key made on first run and kept in IndexedDB.
// Background only: only the background signs.
import { exportEs256PublicJwk, generateEs256KeyPair, jwkThumbprint } from '../protocol';
import type { DeviceKeyRow } from './db';
import { db } from './db';

/** The device key, created once; concurrent first calls agree on one key (one transaction wins). */
export async function deviceKey(): Promise<DeviceKeyRow> {
  const existing = await db().keys.get('device');
  if (existing) return existing;
  const pair = await generateEs256KeyPair(false);
  const publicJwk = await exportEs256PublicJwk(pair.publicKey);
  const row: DeviceKeyRow = { id: 'device', privateKey: pair.privateKey, publicJwk, kid: await jwkThumbprint(publicJwk), createdAt: Date.now() };
  return db().transaction('rw', db().keys, async () => {
    const raced = await db().keys.get('device');
    if (raced) return raced;
    await db().keys.add(row);
    return row;
  });
}
