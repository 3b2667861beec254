// The verifier's receipt-signing keys: created on first start, rotatable, old keys kept for
// verification and published as JWKS. Node only.
import type { Kysely } from 'kysely';
import type { Es256PublicJwk } from '../../lib/protocol';
import { ECDSA_P256, exportEs256PublicJwk, jwkThumbprint } from '../../lib/protocol';
import type { Database } from '../db/schema';

export interface ReceiptSigner {
  kid: string;
  privateKey: CryptoKey;
}

/** The active signing key, made on first use. The private JWK is stored in the verifier's database. */
export async function activeReceiptSigner(db: Kysely<Database>, now: number): Promise<ReceiptSigner> {
  const row = await db.selectFrom('receipt_keys').selectAll().where('retired_at', 'is', null).orderBy('created_at', 'desc').executeTakeFirst();
  if (row) return { kid: row.kid, privateKey: await importPrivate(row.private_jwk) };
  return rotateReceiptKey(db, now);
}

/** Makes a new signing key and retires the old ones (they stay in the JWKS). */
export async function rotateReceiptKey(db: Kysely<Database>, now: number): Promise<ReceiptSigner> {
  const pair = await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const publicJwk = await exportEs256PublicJwk(pair.publicKey);
  const kid = await jwkThumbprint(publicJwk);
  const privateJwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('receipt_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
    await trx.insertInto('receipt_keys').values({ kid, public_jwk: JSON.stringify(publicJwk), private_jwk: JSON.stringify(privateJwk), created_at: now, retired_at: null }).execute();
  });
  return { kid, privateKey: await importPrivate(JSON.stringify(privateJwk)) };
}

export async function receiptJwks(db: Kysely<Database>): Promise<{ keys: Array<Es256PublicJwk & { kid: string; use: 'sig'; alg: 'ES256' }> }> {
  const rows = await db.selectFrom('receipt_keys').select(['kid', 'public_jwk', 'retired_at']).orderBy('created_at', 'desc').execute();
  // The active key first, then retired ones, newest first.
  rows.sort((a, b) => Number(a.retired_at !== null) - Number(b.retired_at !== null));
  return { keys: rows.map((r) => ({ ...(JSON.parse(r.public_jwk) as Es256PublicJwk), kid: r.kid, use: 'sig' as const, alg: 'ES256' as const })) };
}

function importPrivate(jwk: string): Promise<CryptoKey> {
  // Imported non-extractable: once loaded, the key cannot be read back out of this process's API.
  return crypto.subtle.importKey('jwk', JSON.parse(jwk) as JsonWebKey, ECDSA_P256, false, ['sign']);
}
