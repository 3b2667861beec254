// `npm run demo:agent`: runs the scripted rogue assistant against a running demo and exits 0 only
// when the tools refused every assistant call and accepted the person's post. The logic (for tests)
// is runRogueAgent in ./rogue-agent; importing this file runs it. Node only.
import { runRogueAgent } from './rogue-agent';

const forumUrl = process.env.FORUM_URL || 'http://127.0.0.1:8080';
const consoleUrl = process.env.CONSOLE_URL || 'http://localhost:8081';

runRogueAgent({ forumUrl, consoleUrl, out: (line) => console.log(line) }).then(
  (result) => process.exit(result.ok ? 0 : 1),
  (error: unknown) => {
    console.error(`rogue agent failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
