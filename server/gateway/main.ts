// `npm run gateway -- --config <file>`: reads the config (a bad one names its field and nothing
// starts), builds the gateway and listens. Node only.
import { Command } from 'commander';
import { buildGateway } from './app';
import { loadGatewayConfig } from './config';

async function main(): Promise<void> {
  const program = new Command('countersign-gateway')
    .description('A reverse proxy that makes a tool refuse unapproved agent actions (DESIGN.md, "The gateway").')
    .requiredOption('--config <file>', 'the gateway configuration (JSON)')
    .parse(process.argv);
  const config = loadGatewayConfig(program.opts<{ config: string }>().config, process.env);
  const app = await buildGateway({ config });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.close().then(() => process.exit(0), () => process.exit(1));
    });
  }
  const address = await app.listen({ host: config.listen.host, port: config.listen.port });
  const origins = Array.isArray(config.origin) ? config.origin.join(', ') : config.origin;
  console.log(`Countersign gateway on ${address} for ${origins} → ${config.upstream}; verifier ${config.verifier}; ${config.routes.length} protected routes`);
}

main().catch((error: unknown) => {
  console.error(`gateway failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
