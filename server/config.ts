// The verifier's configuration, read once from the environment DESIGN.md names. Node only.
import { z } from 'zod';

const DatabaseUrl = z
  .string()
  .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'sqlite:<file path> or postgres://…');

export const VerifierEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: DatabaseUrl.default('sqlite:./data/verifier.db'),
  COUNTERSIGN_ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  COUNTERSIGN_PUBLIC_URL: z.url().optional(),
});
export type VerifierEnv = z.infer<typeof VerifierEnv>;

export interface VerifierConfig {
  port: number;
  host: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  /** Undefined when the environment sets none: the entry point then generates one and prints it. */
  adminToken: string | undefined;
  publicUrl: string;
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
  };
}
