// `npm start` (scripts/start.mjs) as a newcomer runs it, on free ports with its data in a temp folder,
// and what its summary tells them to use, read from its output as they would read it. Node only (browser tests).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../processes';

/** The line the summary ends with: everything is up once it is printed. */
export const SUMMARY_END = 'Ctrl-C stops everything.';

export interface StartProcess {
  ports: { verifier: number; forum: number; console: number };
  dataDir: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Resolves once the output contains `text`. */
  printed(text: string, timeoutMs?: number): Promise<string>;
  /** Ctrl-C: SIGINT to its process group, as a terminal sends it; resolves with its exit code. */
  interrupt(): Promise<number | null>;
  /** Interrupts it if it still runs and removes its data folder. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** After `npm start --`: `--no-build`, `--open`. */
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Through `npm start` itself rather than `node scripts/start.mjs`. */
  viaNpm?: boolean;
  /** Reuse this data folder (a restart); the caller removes it. */
  dataDir?: string;
  /** Listen on these (a restart on the same ports); free ones otherwise. */
  ports?: StartProcess['ports'];
}

export async function runStart({ args = [], env = {}, viaNpm = false, dataDir: reused, ports: given }: StartOptions = {}): Promise<StartProcess> {
  const ports = given ?? { verifier: await freePort(), forum: await freePort(), console: await freePort() };
  const dataDir = reused ?? mkdtempSync(join(tmpdir(), 'cs-start-'));
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(ports.verifier),
    FORUM_PORT: String(ports.forum),
    CONSOLE_PORT: String(ports.console),
    COUNTERSIGN_DATA_DIR: dataDir,
    // A newcomer has neither set: the token goes to the data folder, the database into it too.
    COUNTERSIGN_ADMIN_TOKEN: undefined,
    DATABASE_URL: undefined,
    ...env,
  };
  for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
  const [command, ...commandArgs] = viaNpm ? ['npm', 'start', '--silent', '--', ...args] : [process.execPath, 'scripts/start.mjs', ...args];
  const child = spawn(command!, commandArgs, { env: childEnv as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const waiters = new Set<() => void>();
  const append = (d: unknown) => {
    output += String(d);
    for (const w of waiters) w();
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      for (const w of waiters) w();
      resolve(code);
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null;

  const interrupt = async () => {
    if (running()) process.kill(-child.pid!, 'SIGINT');
    return exited;
  };
  return {
    ports,
    dataDir,
    output: () => output,
    printed(text, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`npm start did not print ${JSON.stringify(text)}; it printed:\n${output}`)), timeoutMs);
        const check = () => {
          if (output.includes(text)) done(null);
          else if (!running()) done(new Error(`npm start exited before printing ${JSON.stringify(text)}; it printed:\n${output}`));
        };
        const done = (error: Error | null) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(output);
        };
        waiters.add(check);
        check();
      });
    },
    interrupt,
    async close() {
      await interrupt();
      if (!reused) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What the summary tells a newcomer to use, each read from the line that says it. */
export interface StartSummary {
  forumUrl: string;
  consoleUrl: string;
  verifierUrl: string;
  /** The verifier URL step 2 says to enter. */
  enrollVerifierUrl: string;
  code: string;
  /** The folder step 1 says to load (absent when --open loads it). */
  extensionDir: string | null;
  /** The options page step 1 names (absent when --open opens it). */
  optionsUrl: string | null;
  /** The command that makes another enrollment code. */
  anotherCode: string;
}

function line(output: string, pattern: RegExp, what: string): string {
  const match = pattern.exec(output);
  if (!match?.[1]) throw new Error(`npm start's summary does not say ${what}:\n${output}`);
  return match[1];
}

export function readSummary(output: string): StartSummary {
  return {
    forumUrl: line(output, /^\s*Intraforum\s+(http\S+)/m, 'where Intraforum is'),
    consoleUrl: line(output, /^\s*Access console\s+(http\S+)/m, 'where the Access console is'),
    verifierUrl: line(output, /^\s*Verifier\s+(http\S+)/m, 'where the verifier is'),
    enrollVerifierUrl: line(output, /^\s*Verifier URL\s+(http\S+)/m, 'which verifier URL to enroll with'),
    code: line(output, /^\s*Enrollment code\s+(\S+)/m, 'the enrollment code'),
    extensionDir: /Load unpacked →\s*\n\s*(\S+)/.exec(output)?.[1] ?? null,
    optionsUrl: /options page \((chrome-extension:\/\/[^)\s]+)\)/.exec(output)?.[1] ?? null,
    anotherCode: line(output, /^\s*(\S.*npm run admin -- codes create .*)$/m, 'how to make another enrollment code'),
  };
}
