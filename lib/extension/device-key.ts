// The device key: a non-extractable ECDSA P-256 key made on first run and kept in IndexedDB.
// Background only: only the background signs.
import { exportEs256PublicJwk, generateEs256KeyPair, jwkThumbprint } from '../protocol';
import type { DeviceKeyRow } from './db';
import { db } from './db';

/** The key kept under `id`, created once; concurrent first calls agree on one key (one transaction wins). */
export async function storedKey(id: DeviceKeyRow['id']): Promise<DeviceKeyRow> {
  const existing = await db().keys.get(id);
  if (existing) return existing;
  const pair = await generateEs256KeyPair(false);
  const publicJwk = await exportEs256PublicJwk(pair.publicKey);
  const row: DeviceKeyRow = { id, privateKey: pair.privateKey, publicJwk, kid: await jwkThumbprint(publicJwk), createdAt: Date.now() };
  return db().transaction('rw', db().keys, async () => {
    const raced = await db().keys.get(id);
    if (raced) return raced;
    await db().keys.add(row);
    return row;
  });
}

/** The device key, created once on first run. */
export function deviceKey(): Promise<DeviceKeyRow> {
  return storedKey('device');
}
