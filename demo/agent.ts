// `npm run demo:agent`: runs the scripted rogue assistant against a running demo and exits 0 only
// when the tools refused every assistant call and accepted the person's post. Importing this module
// (tests do) only exports runRogueAgent; it runs when it is the process's entry point. Node only.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runRogueAgent } from './rogue-agent';

export { runRogueAgent } from './rogue-agent';
export type { DatasetAccessView, RogueAgentOptions, RogueAgentResult, RogueStep } from './rogue-agent';

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const forumUrl = process.env.FORUM_URL || 'http://127.0.0.1:8080';
  const consoleUrl = process.env.CONSOLE_URL || 'http://localhost:8081';
  runRogueAgent({ forumUrl, consoleUrl, out: (line) => console.log(line) }).then(
    (result) => process.exit(result.ok ? 0 : 1),
    (error: unknown) => {
      console.error(`rogue agent failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
