// Runs `npm run admin -- policy-template …` in-process as an admin would: no verifier, no admin token
// (a call to the verifier fails the command). Node only (tests).
import { runCli } from '../../server/cli';

/** The exit code and what the command wrote to stderr. */
export async function policyTemplateCli(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await runCli(['policy-template', ...args], {
    fetch: () => Promise.reject(new Error('policy-template must not call the verifier')),
    out: () => undefined,
    err: (line) => err.push(line),
    env: {},
  });
  return { code, err: err.join('\n') };
}
