// The demo's environment (VERIFIER_URL, FORUM_PORT, CONSOLE_PORT, DEMO_DATA), read and checked. Node only.

export interface DemoConfig {
  verifierUrl: string;
  forumPort: number;
  consolePort: number;
  dataFile: string;
}

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number (1–65535), got "${value}"`);
  return n;
}

export function readDemoConfig(env: NodeJS.ProcessEnv): DemoConfig {
  const verifierUrl = env.VERIFIER_URL || 'http://127.0.0.1:8787';
  if (!/^https?:\/\//.test(verifierUrl)) throw new Error(`VERIFIER_URL must be an http(s) URL, got "${verifierUrl}"`);
  return {
    verifierUrl,
    forumPort: port(env.FORUM_PORT, 8080, 'FORUM_PORT'),
    consolePort: port(env.CONSOLE_PORT, 8081, 'CONSOLE_PORT'),
    dataFile: env.DEMO_DATA || './data/demo.db',
  };
}
