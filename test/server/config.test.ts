// The verifier's environment: DESIGN.md's defaults, and a clear error for a bad variable.
import { describe, expect, it } from 'vitest';
import { readVerifierConfig } from '../../server/config';

describe('verifier configuration', () => {
  it('defaults to 127.0.0.1:8787 on SQLite under ./data', () => {
    expect(readVerifierConfig({})).toEqual({
      port: 8787,
      host: '127.0.0.1',
      database: { kind: 'sqlite', file: './data/verifier.db' },
      adminToken: undefined,
      publicUrl: 'http://127.0.0.1:8787',
      // The extension's own origin (lib/extension-identity.ts): where enrollment credentials may be registered.
      extensionOrigins: ['chrome-extension://leelpbfgmamkjjkciaifjeihgadjnmgj'],
      // Synchronous node:crypto for the protocol's hashes and signatures (issue 20).
      crypto: 'node',
    });
  });

  it('takes Web Crypto for the protocol when COUNTERSIGN_CRYPTO=webcrypto, and refuses a backend it does not know', () => {
    expect(readVerifierConfig({ COUNTERSIGN_CRYPTO: 'webcrypto' }).crypto).toBe('webcrypto');
    expect(() => readVerifierConfig({ COUNTERSIGN_CRYPTO: 'openssl' })).toThrow(/COUNTERSIGN_CRYPTO/);
  });

  it('takes PostgreSQL from a postgres:// DATABASE_URL', () => {
    const config = readVerifierConfig({ DATABASE_URL: 'postgres://cs@127.0.0.1:5432/countersign', PORT: '9000' });
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://cs@127.0.0.1:5432/countersign' });
    expect(config.port).toBe(9000);
  });

  it('takes a libpq-style socket URL with no user and no host as it is (the user is resolved when connecting)', () => {
    const url = 'postgres:///countersign?host=/var/run/postgresql';
    expect(readVerifierConfig({ DATABASE_URL: url }).database).toEqual({ kind: 'postgres', url });
  });

  it('takes the extension origins enrollment credentials may come from as a comma list', () => {
    const env = { COUNTERSIGN_EXTENSION_ORIGINS: 'chrome-extension://leelpbfgmamkjjkciaifjeihgadjnmgj, moz-extension://0d2f3a1c-5b7e-4f10-9a8b-1c2d3e4f5a6b' };
    expect(readVerifierConfig(env).extensionOrigins).toEqual(['chrome-extension://leelpbfgmamkjjkciaifjeihgadjnmgj', 'moz-extension://0d2f3a1c-5b7e-4f10-9a8b-1c2d3e4f5a6b']);
  });

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['COUNTERSIGN_ADMIN_TOKEN', { COUNTERSIGN_ADMIN_TOKEN: 'short' }],
    ['COUNTERSIGN_PUBLIC_URL', { COUNTERSIGN_PUBLIC_URL: 'not a url' }],
    ['COUNTERSIGN_EXTENSION_ORIGINS', { COUNTERSIGN_EXTENSION_ORIGINS: 'https://forum.corp.example' }],
    ['COUNTERSIGN_EXTENSION_ORIGINS', { COUNTERSIGN_EXTENSION_ORIGINS: 'chrome-extension://abc/options.html' }],
    ['COUNTERSIGN_EXTENSION_ORIGINS', { COUNTERSIGN_EXTENSION_ORIGINS: ' , ' }],
  ])('refuses a bad %s, naming it', (name, env) => {
    expect(() => readVerifierConfig(env)).toThrow(name);
  });
});
