// Real processes for tests and benchmarks: a free loopback port, and the verifier started as
// `npm run verifier` would (server/main.ts through tsx), waited for until /v1/status answers. Node only.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../../demo/free-port';

export { freePort };

export interface VerifierProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), then waits for the exit. */
  kill(): Promise<void>;
}

/** `nodeArgs` go to node before the entry (a benchmark's `--cpu-prof`). */
export async function startVerifierProcess(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<VerifierProcess> {
  const port = await freePort();
  // node itself with tsx as a loader, not the tsx CLI: the CLI runs the server in a grandchild that a
  // SIGKILL to the CLI would leave running, and a crash test must kill the server itself.
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, LOG_LEVEL: 'error', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exit = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${url}/v1/status`).then((r) => r.ok, () => false)) return { url, child, stop: () => exit('SIGTERM'), kill: () => exit('SIGKILL') };
    await new Promise((r) => setTimeout(r, 100));
  }
  await exit('SIGKILL');
  throw new Error('the verifier process did not start within 30 s');
}
