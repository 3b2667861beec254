// `npm run verifier`: opens the database named by DATABASE_URL, builds the app and listens. Node only.
import { randomBytes } from 'node:crypto';
import { buildApp, REDACTED_HEADERS } from './app';
import { readVerifierConfig } from './config';
import { openDatabase } from './db/connect';
import { useNodeCrypto } from './node-crypto';

async function main(): Promise<void> {
  const config = readVerifierConfig(process.env);
  // The whole process: every hash, token check and receipt signature of lib/protocol (issue 20).
  if (config.crypto === 'node') useNodeCrypto();
  const adminToken = config.adminToken ?? randomBytes(24).toString('base64url');
  const database = await openDatabase(config.database);
  const app = await buildApp({
    database,
    adminToken,
    publicUrl: config.publicUrl,
    extensionOrigins: config.extensionOrigins,
    closeDatabase: true,
    processMetrics: true,
    logger: { level: process.env.LOG_LEVEL ?? 'info', redact: REDACTED_HEADERS },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.close().then(() => process.exit(0), () => process.exit(1));
    });
  }
  const address = await app.listen({ port: config.port, host: config.host });
  const where = config.database.kind === 'sqlite' ? `SQLite ${config.database.file}` : 'PostgreSQL';
  console.log(`Countersign verifier on ${address} (${where}); receipts issued as ${config.publicUrl}`);
  if (!config.adminToken) console.log(`Admin token (set COUNTERSIGN_ADMIN_TOKEN to choose one): ${adminToken}`);
}

main().catch((error: unknown) => {
  console.error(`verifier failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
