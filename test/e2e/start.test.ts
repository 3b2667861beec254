// `npm start` as a newcomer runs it: it builds, starts the verifier and both demo tools, prints the
// URLs, an enrollment code and how to load the extension, writes the admin policy that protects the two
// tools with their site adapters (the extension ships none), and Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { freePort } from './support/stack';

it('npm start brings the system up and Ctrl-C takes it down', async () => {
  const [port, forumPort, consolePort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn('npm', ['start', '--silent'], {
    env: { ...process.env, PORT: String(port), FORUM_PORT: String(forumPort), CONSOLE_PORT: String(consolePort), DATABASE_URL: 'sqlite:./data/start-test.db' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (d) => (output += String(d)));
  child.stderr.on('data', (d) => (output += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await expect.poll(() => output, { timeout: 60_000, interval: 250 }).toContain('Ctrl-C stops everything');
    expect(output).toContain(`http://127.0.0.1:${port}`);
    expect(output).toMatch(/Enrollment code [0-9A-Z]{4}(-[0-9A-Z]{4}){3}/);
    expect(output).toContain('Load unpacked');
    expect(output).toContain('leelpbfgmamkjjkciaifjeihgadjnmgj');
    expect((await fetch(`http://127.0.0.1:${port}/v1/status`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${forumPort}/t/1`, { redirect: 'manual' })).status).toBeLessThan(500);
    expect((await fetch(`http://localhost:${consolePort}/login`)).status).toBe(200);
    // The policy to copy into Chromium's managed directory: the tools on their ports, their adapters as data.
    const policy = JSON.parse(readFileSync('data/chromium-policy.json', 'utf8'))['3rdparty'].extensions.leelpbfgmamkjjkciaifjeihgadjnmgj;
    expect(policy.protectedSites).toEqual([`http://127.0.0.1:${forumPort}/*`, `http://localhost:${consolePort}/*`]);
    expect((JSON.parse(policy.adapters) as Array<{ id: string; match: string[] }>).map((a) => [a.id, a.match])).toEqual([
      ['intraforum', [`http://127.0.0.1:${forumPort}/*`]],
      ['access-console', [`http://localhost:${consolePort}/*`]],
    ]);
  } finally {
    process.kill(-child.pid!, 'SIGINT');
  }
  await exited;
  await expect.poll(async () => fetch(`http://127.0.0.1:${port}/v1/status`).then(() => 'up', () => 'down'), { timeout: 10_000 }).toBe('down');
  await expect.poll(async () => fetch(`http://127.0.0.1:${forumPort}/login`).then(() => 'up', () => 'down'), { timeout: 10_000 }).toBe('down');
});
