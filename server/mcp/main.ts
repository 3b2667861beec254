// `npm run mcp`: the Countersign MCP server over stdio (stdout carries the protocol only; messages go
// to stderr). Configured from the environment (server/mcp/config.ts); a bad one stops it at once,
// saying which variable. Node only.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { McpConfigError, readMcpConfig } from './config';
import { createCountersignMcp } from './tools';

async function main(): Promise<void> {
  let config;
  try {
    config = readMcpConfig(process.env);
  } catch (error) {
    if (error instanceof McpConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const server = createCountersignMcp({ config });
  await server.connect(new StdioServerTransport());
  console.error(`countersign mcp: ready (verifier ${config.verifierUrl}; tools ${[...config.toolOrigins].join(', ')})`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      server.close().then(() => process.exit(0), () => process.exit(1));
    });
  }
}

main().catch(() => {
  // No detail: an unexpected error could carry a configured secret.
  console.error('countersign mcp: failed to start');
  process.exit(1);
});
