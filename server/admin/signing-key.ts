// The fleet's CRX signing key: where it is read from (--key, COUNTERSIGN_CRX_KEY, or the checkout's
// .keys/), and a new one made there on first use, readable by its owner only. Node only (fs, crypto).
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Where a checkout keeps the key it made itself (gitignored). */
export const DEFAULT_KEY_PATH = '.keys/countersign-crx.pem';

/** The key file to use: the flag, else the environment, else the checkout's default. */
export function signingKeyPath(flag: string | undefined, env: NodeJS.ProcessEnv): { path: string; chosen: 'flag' | 'env' | 'default' } {
  // An empty value (`--key "$UNSET"`) is a mistake, never a reason to fall through to a new key.
  if (flag !== undefined) {
    if (flag.trim() === '') throw new Error('--key is empty: name the fleet\'s signing key file');
    return { path: resolve(flag), chosen: 'flag' };
  }
  if (env.COUNTERSIGN_CRX_KEY !== undefined) {
    if (env.COUNTERSIGN_CRX_KEY.trim() === '') throw new Error('COUNTERSIGN_CRX_KEY is set but empty: name the fleet\'s signing key file, or unset it');
    return { path: resolve(env.COUNTERSIGN_CRX_KEY), chosen: 'env' };
  }
  return { path: resolve(DEFAULT_KEY_PATH), chosen: 'default' };
}

/**
 * The key at `path`; only the checkout's default is made when missing (a key named by --key or the
 * environment that is not there is an error: a typo must not mint a new extension id).
 */
export function ensureSigningKey(path: string, mayCreate: boolean): { created: boolean } {
  if (existsSync(path)) return { created: false };
  if (!mayCreate) throw new Error(`no signing key at ${path}`);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  return { created: true };
}
