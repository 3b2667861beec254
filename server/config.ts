// The verifier's configuration, read once from the environment DESIGN.md names. Node only.
import { z } from 'zod';
import { EXTENSION_ID } from '../lib/extension-identity';

/** The extension origin WebAuthn credentials are registered from by default: Countersign's fixed Chromium id. */
export const DEFAULT_EXTENSION_ORIGINS = [`chrome-extension://${EXTENSION_ID}`];

/** An extension page's origin: chrome-extension:// or moz-extension:// and an id, nothing more. */
const ExtensionOrigin = z.string().regex(/^(chrome-extension|moz-extension):\/\/[a-z0-9-]{1,64}$/, 'an extension origin such as chrome-extension://<id>');

const DatabaseUrl = z
  .string()
  .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'sqlite:<file path> or postgres://…');

export const VerifierEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: DatabaseUrl.default('sqlite:./data/verifier.db'),
  COUNTERSIGN_ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  COUNTERSIGN_PUBLIC_URL: z.url().optional(),
  /** Comma-separated extension origins whose WebAuthn credentials enrollment accepts (and pins). */
  COUNTERSIGN_EXTENSION_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()).filter((o) => o !== ''))
    .pipe(z.array(ExtensionOrigin).min(1, 'at least one origin'))
    .optional(),
  /** Who computes the protocol's hashes and signatures: node:crypto on the calling thread (default), or Web Crypto. */
  COUNTERSIGN_CRYPTO: z.enum(['node', 'webcrypto']).default('node'),
});
export type VerifierEnv = z.infer<typeof VerifierEnv>;

export interface VerifierConfig {
  port: number;
  host: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  /** Undefined when the environment sets none: the entry point then generates one and prints it. */
  adminToken: string | undefined;
  publicUrl: string;
  /** Origins a device's WebAuthn credential may be registered from. */
  extensionOrigins: string[];
  /** The protocol crypto backend (server/node-crypto.ts, or lib/protocol's Web Crypto). */
  crypto: 'node' | 'webcrypto';
}

/** Parses the environment; throws a readable error naming the bad variable (fail closed). */
export function readVerifierConfig(env: Record<string, string | undefined>): VerifierConfig {
  const parsed = VerifierEnv.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid environment ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  const database = e.DATABASE_URL.startsWith('sqlite:')
    ? { kind: 'sqlite' as const, file: e.DATABASE_URL.slice('sqlite:'.length) }
    : { kind: 'postgres' as const, url: e.DATABASE_URL };
  return {
    port: e.PORT,
    host: e.HOST,
    database,
    adminToken: e.COUNTERSIGN_ADMIN_TOKEN,
    publicUrl: e.COUNTERSIGN_PUBLIC_URL ?? `http://${e.HOST}:${e.PORT}`,
    extensionOrigins: e.COUNTERSIGN_EXTENSION_ORIGINS ?? DEFAULT_EXTENSION_ORIGINS,
    crypto: e.COUNTERSIGN_CRYPTO,
  };
}
