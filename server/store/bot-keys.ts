// Policy bots' signing keys: made on a bot's first approval, rotatable; each public key is also
// enrolled in `devices` (device and user `policy-bot:<name>`), so a bot's token verifies exactly as
// a person's, and a retired key is revoked there (under a retired device id), stopping every token it
// signed. Node only.
import type { Kysely } from 'kysely';
import type { Es256PublicJwk } from '../../lib/protocol';
import { ECDSA_P256, exportEs256PublicJwk, jwkThumbprint, policyBotId } from '../../lib/protocol';
import type { Database } from '../db/schema';

export interface BotSigner {
  name: string;
  /** `policy-bot:<name>`: the token's `iss` and `sub`. */
  id: string;
  kid: string;
  privateKey: CryptoKey;
}

/** The bot's active key, made on first use (the private JWK is kept in the verifier's database, like the receipt keys). */
export async function activeBotSigner(db: Kysely<Database>, name: string, now: number): Promise<BotSigner> {
  const row = await db.selectFrom('bot_keys').selectAll().where('name', '=', name).where('retired_at', 'is', null).orderBy('created_at', 'desc').executeTakeFirst();
  if (row) return { name, id: policyBotId(name), kid: row.kid, privateKey: await importPrivate(row.private_jwk) };
  return rotateBotKey(db, name, now);
}

/**
 * A new key for the bot; its older keys are retired and revoked, so tokens they signed stop
 * verifying from the next request (rotation is what an admin does when a key may have leaked).
 */
export async function rotateBotKey(db: Kysely<Database>, name: string, now: number): Promise<BotSigner> {
  const pair = await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const publicJwk: Es256PublicJwk = await exportEs256PublicJwk(pair.publicKey);
  const kid = await jwkThumbprint(publicJwk);
  const privateJwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
  const id = policyBotId(name);
  await db.transaction().execute(async (trx) => {
    const old = await trx.updateTable('bot_keys').set({ retired_at: now }).where('name', '=', name).where('retired_at', 'is', null).returning('kid').execute();
    // A device id is unique, and the bot's (its `iss`) passes to the new key: each old row keeps its
    // key under a retired id, revoked, so what it signed names a device that no longer exists.
    for (const { kid: oldKid } of old) {
      await trx.updateTable('devices').set({ revoked_at: now, device_id: `${id}#retired:${oldKid}` }).where('kid', '=', oldKid).execute();
    }
    await trx.insertInto('bot_keys').values({ kid, name, private_jwk: JSON.stringify(privateJwk), created_at: now, retired_at: null }).execute();
    await trx.insertInto('devices').values({ kid, device_id: id, user_id: id, label: `policy bot ${name}`, public_jwk: JSON.stringify(publicJwk), created_at: now, revoked_at: null }).execute();
  });
  return { name, id, kid, privateKey: await importPrivate(JSON.stringify(privateJwk)) };
}

/** Every bot key, the public half (JWKS members with the bot's name), the active ones first. */
export async function botJwks(db: Kysely<Database>): Promise<{ keys: Array<Es256PublicJwk & { kid: string; use: 'sig'; alg: 'ES256'; bot: string; revoked: boolean }> }> {
  const rows = await db
    .selectFrom('bot_keys as b')
    .innerJoin('devices as d', 'd.kid', 'b.kid')
    .select(['b.kid', 'b.name', 'd.public_jwk', 'd.revoked_at', 'b.created_at'])
    .orderBy('b.created_at', 'desc')
    .execute();
  rows.sort((a, b) => Number(a.revoked_at !== null) - Number(b.revoked_at !== null));
  return {
    keys: rows.map((r) => ({ ...(JSON.parse(r.public_jwk) as Es256PublicJwk), kid: r.kid, use: 'sig' as const, alg: 'ES256' as const, bot: r.name, revoked: r.revoked_at !== null })),
  };
}

function importPrivate(jwk: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('jwk', JSON.parse(jwk) as JsonWebKey, ECDSA_P256, false, ['sign']);
}
