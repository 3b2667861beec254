// A real HAProxy (/usr/sbin/haproxy, Debian's `haproxy`) run from a configuration text, for the test
// helpers that put one in front of something (auth-proxy.ts, replicas.ts): written to a temporary
// folder, started in the foreground, waited for until every given port accepts. Node only (tests).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAPROXY = '/usr/sbin/haproxy';

/** `host:port` server lines for http origins; `role` names the helper in the error for anything else. */
export function httpServers(backends: readonly string[], role: string): string[] {
  if (!existsSync(HAPROXY)) throw new Error(`No ${HAPROXY}: apt-get install haproxy (or run .ci/run once).`);
  return backends.map((b) => {
    const target = new URL(b);
    if (target.protocol !== 'http:') throw new Error(`The ${role} forwards to http only, not ${b}`);
    return `${target.hostname}:${target.port || '80'}`;
  });
}

/** Starts HAProxy on `config`; resolves once each of `ports` accepts. `stop` (SIGTERM, then the folder removed) is idempotent. */
export async function runHaproxy(config: string, ports: readonly number[]): Promise<{ stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'countersign-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, config);
  const child = spawn(HAPROXY, ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= new Promise<void>((resolve) => {
      if (exited()) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }).then(() => rm(dir, { recursive: true, force: true })));

  for (let i = 0; ; i++) {
    if (exited()) {
      await stop();
      throw new Error(`haproxy exited with ${child.exitCode ?? child.signalCode}:\n${stderr}`);
    }
    if ((await Promise.all(ports.map(accepts))).every(Boolean)) return { stop };
    if (i >= 200) {
      await stop();
      throw new Error(`haproxy did not listen within 10 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
