// The enrolled device's own key, used from outside the extension's code: what an agent that drives the
// browser (and so can run script in the extension's origin) could sign with it. The key never leaves
// the browser (it is not extractable); the test builds the token and an extension page signs it.
// Node only (browser tests).
import { decodeJwt } from 'jose';
import type { ApprovalClaims, MintApprovalInput } from '@/lib/protocol/index';
import { generateEs256KeyPair, mintApprovalToken } from '@/lib/protocol/index';
import type { ExtensionBrowser } from './browser';

type Mint = Omit<MintApprovalInput, 'privateKey' | 'kid' | 'deviceId' | 'userId'>;

/** Reads one row of the extension's database from one of its pages (a document that runs none of its code). */
async function readRow<T>(browser: ExtensionBrowser, store: string, key: string): Promise<T | undefined> {
  const page = await browser.openExtensionPage('manifest.json');
  try {
    return await page.evaluate(
      ({ store, key }) =>
        new Promise<T | undefined>((resolve, reject) => {
          const open = indexedDB.open('countersign');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction(store).objectStore(store).get(key);
            get.onsuccess = () => (resolve(get.result as T | undefined), open.result.close());
            get.onerror = () => reject(get.error);
          };
        }),
      { store, key },
    );
  } finally {
    await page.close();
  }
}

/**
 * An approval token signed with the browser's device key, for whatever `input` says (a request, a
 * jti, a `wa` taken from elsewhere): everything a token needs except the person's presence.
 */
export async function mintWithDeviceKey(browser: ExtensionBrowser, input: Mint): Promise<{ token: string; claims: ApprovalClaims }> {
  const enrollment = await readRow<{ deviceId: string; userId: string; kid: string }>(browser, 'enrollment', 'current');
  if (!enrollment) throw new Error('the browser is not enrolled');
  // The claims and header exactly as the extension mints them; only the signature is redone, with the device's key.
  const stand = await generateEs256KeyPair();
  const { token, claims } = await mintApprovalToken({ ...input, privateKey: stand.privateKey, kid: enrollment.kid, deviceId: enrollment.deviceId, userId: enrollment.userId });
  const signingInput = token.split('.').slice(0, 2).join('.');
  const page = await browser.openExtensionPage('manifest.json');
  try {
    const signature = await page.evaluate(async (signingInput) => {
      const database = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('countersign');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const row = await new Promise<{ privateKey: CryptoKey }>((resolve, reject) => {
        const get = database.transaction('keys').objectStore('keys').get('device');
        get.onsuccess = () => resolve(get.result as { privateKey: CryptoKey });
        get.onerror = () => reject(get.error);
      });
      database.close();
      const sig = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, row.privateKey, new TextEncoder().encode(signingInput)));
      return btoa(String.fromCharCode(...sig)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    }, signingInput);
    return { token: `${signingInput}.${signature}`, claims };
  } finally {
    await page.close();
  }
}

/** The claims of a token (read, not verified: the test's own look at what the extension signed). */
export function tokenClaims(token: string): ApprovalClaims {
  return decodeJwt(token) as unknown as ApprovalClaims;
}
