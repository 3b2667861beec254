// `npm run demo`: Intraforum on http://127.0.0.1:FORUM_PORT and the Access console on
// http://localhost:CONSOLE_PORT, both asking the verifier at VERIFIER_URL. Node only.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { remoteVerifier } from '../server/middleware';
import { buildDemo } from './app';
import { readDemoConfig } from './config';

/** A newcomer's most likely mistake is a verifier that is not running: say so, since the tools then fail closed. */
async function verifierReachable(url: string): Promise<boolean> {
  try {
    const response = await fetch(new URL('/v1/status', url), { signal: AbortSignal.timeout(1500) });
    return response.ok;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const config = readDemoConfig(process.env);
  if (config.dataFile !== ':memory:') mkdirSync(dirname(config.dataFile), { recursive: true });
  const forumUrl = `http://127.0.0.1:${config.forumPort}`;
  const consoleUrl = `http://localhost:${config.consolePort}`;
  const demo = await buildDemo({ verifier: remoteVerifier({ url: config.verifierUrl }), forumOrigin: forumUrl, consoleOrigin: consoleUrl, dataFile: config.dataFile });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      demo.close().then(() => process.exit(0), () => process.exit(1));
    });
  }
  // Both on the loopback address; the console is published as `localhost` so that the extension's
  // match patterns (http://127.0.0.1/* and http://localhost/*, any port) tell the two tools apart.
  await demo.forum.listen({ port: config.forumPort, host: '127.0.0.1' });
  await demo.console.listen({ port: config.consolePort, host: '127.0.0.1' });
  console.log(`Intraforum:     ${forumUrl}`);
  console.log(`Access console: ${consoleUrl}`);
  console.log(`Verifier:       ${config.verifierUrl}`);
  console.log(`Data:           ${config.dataFile}`);
  console.log('Sign in as alice or bob (no password). Run `npm run demo:agent` to watch a rogue assistant get refused.');
  if (!(await verifierReachable(config.verifierUrl))) {
    console.log(`Warning: no verifier answers at ${config.verifierUrl} (start it with \`npm run verifier\`). Until then every request that needs an approval is refused with 503 verifier_unavailable.`);
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
