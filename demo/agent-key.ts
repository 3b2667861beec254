// The demo's verifier agent key for agent:access-helper: COUNTERSIGN_AGENT_KEY when set, else the one
// `npm start` keeps in <data>/agent-access-helper.key (mode 0600). The well-behaved agent holds only
// this key: never the admin token. Node only.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEMO_AGENT = 'agent:access-helper';
export const AGENT_KEY_FILE = 'agent-access-helper.key';

export interface DemoAgentKey {
  key: string;
  source: 'env' | 'file';
}

export function demoAgentKey(options: { env: Record<string, string | undefined>; dataDir: string }): DemoAgentKey {
  const fromEnv = options.env.COUNTERSIGN_AGENT_KEY?.trim();
  if (fromEnv) return { key: fromEnv, source: 'env' };
  const file = join(options.dataDir, AGENT_KEY_FILE);
  const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (kept) return { key: kept, source: 'file' };
  throw new Error(`no agent key for ${DEMO_AGENT}: run \`npm start\` first (it keeps one in ${file}), or set COUNTERSIGN_AGENT_KEY (\`npm run admin\` can make one)`);
}
