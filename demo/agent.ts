// `npm run demo:agent`: runs the scripted rogue assistant against a running demo and exits 0 only
// when the tools refused every assistant call and accepted the person's post.
// `npm run demo:agent -- --propose`: its well-behaved sibling proposes the same payroll change, waits
// for alice's approval in her popup, and acts only then (exit 0 once the console applied it).
// Importing this module (tests do) only exports the runners; it runs when it is the process's entry
// point. Env: VERIFIER_URL, FORUM_URL, CONSOLE_URL, COUNTERSIGN_AGENT_KEY, COUNTERSIGN_DATA_DIR. Node only.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoAgentKey } from './agent-key';
import { runRogueAgent } from './rogue-agent';
import { runWellBehavedAgent } from './well-behaved-agent';

export { runRogueAgent } from './rogue-agent';
export type { DatasetAccessView, RogueAgentOptions, RogueAgentResult, RogueStep } from './rogue-agent';
export { runWellBehavedAgent } from './well-behaved-agent';
export type { WellBehavedAgentOptions, WellBehavedAgentResult } from './well-behaved-agent';

const USAGE = 'usage: npm run demo:agent [-- --propose]';

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

async function propose(): Promise<boolean> {
  const verifierUrl = process.env.VERIFIER_URL || 'http://127.0.0.1:8787';
  const consoleUrl = process.env.CONSOLE_URL || 'http://localhost:8081';
  const dataDir = resolve(process.env.COUNTERSIGN_DATA_DIR || 'data');
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort(new Error('interrupted')));
  const { key } = demoAgentKey({ env: process.env, dataDir });
  const result = await runWellBehavedAgent({ verifierUrl, consoleUrl, agentKey: key, signal: stop.signal, out: (line) => console.log(line) });
  return result.outcome === 'executed';
}

if (isEntryPoint()) {
  const args = process.argv.slice(2);
  if (args.some((a) => a !== '--propose')) {
    console.error(USAGE);
    process.exit(2);
  }
  const forumUrl = process.env.FORUM_URL || 'http://127.0.0.1:8080';
  const consoleUrl = process.env.CONSOLE_URL || 'http://localhost:8081';
  const running = args.includes('--propose') ? propose() : runRogueAgent({ forumUrl, consoleUrl, out: (line) => console.log(line) }).then((r) => r.ok);
  running.then(
    (ok) => process.exit(ok ? 0 : 1),
    (error: unknown) => {
      console.error(`demo agent failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
