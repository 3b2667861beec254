// `npm start` as a newcomer runs it: it builds (with no warning about zod's comments), starts the
// verifier and both demo tools, puts the demo's protection on the verifier as the organisation's
// extension policy, prints the URLs, an enrollment code and how to get another without printing the
// admin token, writes the managed-policy file for an admin who wants it, and Ctrl-C stops everything.
// `--open` opens Chromium on the extension's options page, or says why it cannot.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { expect, it, onTestFinished } from 'vitest';
import { EXTENSION_ID } from '@/lib/extension-identity';
import { CHROMIUM } from '../helpers/browser/browser';
import { freePort } from '../helpers/browser/stack';
import { readSummary, runStart, SUMMARY_END } from '../helpers/browser/start-process';

const down = (url: string) => fetch(url).then(() => 'up', () => 'down');

it('npm start brings the system up with the demo protected from the verifier, and Ctrl-C takes it down', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cs-start-'));
  onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
  const start = await runStart({ viaNpm: true, dataDir });
  try {
    const output = await start.printed(SUMMARY_END);
    const { ports } = start;
    const printed = readSummary(output);
    expect(printed).toMatchObject({
      forumUrl: `http://127.0.0.1:${ports.forum}/t/1`,
      consoleUrl: `http://localhost:${ports.console}/datasets/payroll-2026`,
      verifierUrl: `http://127.0.0.1:${ports.verifier}`,
      enrollVerifierUrl: `http://127.0.0.1:${ports.verifier}`,
      optionsUrl: `chrome-extension://${EXTENSION_ID}/options.html`,
    });
    expect(printed.code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    expect(output).toContain('Load unpacked');
    expect(output).toContain('sign in as alice');
    expect(output).not.toContain('Rollup cannot interpret');

    // The admin token stays in a file only its owner reads; no line printed carries it.
    const tokenFile = join(dataDir, 'admin-token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(output).not.toContain(token);

    expect((await fetch(printed.verifierUrl)).status).toBe(200);
    expect((await fetch(printed.forumUrl, { redirect: 'manual' })).status).toBeLessThan(500);
    expect((await fetch(`http://localhost:${ports.console}/login`)).status).toBe(200);

    // What an enrolled browser fetches: both tools protected on their ports, their adapters as data.
    const answer = await fetch(`${printed.verifierUrl}/v1/admin/extension-policy`, { headers: { authorization: `Bearer ${token}` } });
    const { version, policy } = (await answer.json()) as { version: number; policy: { protectedSites: string[]; assistantAccounts: string[]; adapters: Array<{ id: string; match: string[] }> } };
    expect(version).toBe(1);
    expect(output).toContain('extension policy (version 1)');
    expect(policy.protectedSites).toEqual([`http://127.0.0.1:${ports.forum}/*`, `http://localhost:${ports.console}/*`]);
    expect(policy.assistantAccounts).toEqual(['assistant']);
    expect(policy.adapters.map((a) => [a.id, a.match])).toEqual([
      ['intraforum', [`http://127.0.0.1:${ports.forum}/*`]],
      ['access-console', [`http://localhost:${ports.console}/*`]],
    ]);

    // The admin's optional route: the same protection as managed policy, with the verifier named.
    const managed = JSON.parse(readFileSync(join(dataDir, 'chromium-policy.json'), 'utf8'))['3rdparty'].extensions[EXTENSION_ID];
    expect(managed.verifierUrl).toBe(printed.verifierUrl);
    expect(managed.protectedSites).toEqual(policy.protectedSites);
    expect(JSON.parse(managed.adapters)).toEqual(policy.adapters);

    // Another enrollment code, with the command exactly as printed.
    const said = execFileSync('sh', ['-c', printed.anotherCode], { encoding: 'utf8', env: { ...process.env, COUNTERSIGN_ADMIN_TOKEN: '' } });
    // After npm's own header lines, the CLI's JSON answer.
    const another = JSON.parse(said.slice(said.indexOf('{'))) as { code: string };
    expect(another.code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    expect(another.code).not.toBe(printed.code);
  } finally {
    await start.interrupt();
  }
  await expect.poll(() => down(`http://127.0.0.1:${start.ports.verifier}/v1/status`), { timeout: 10_000 }).toBe('down');
  await expect.poll(() => down(`http://127.0.0.1:${start.ports.forum}/login`), { timeout: 10_000 }).toBe('down');

  // Started again on the same data: the same token file, and the policy version the browsers already hold.
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8');
  const again = await runStart({ args: ['--no-build'], dataDir, ports: start.ports });
  try {
    expect(await again.printed(SUMMARY_END)).toContain('extension policy (version 1)');
    expect(readFileSync(join(dataDir, 'admin-token'), 'utf8')).toBe(token);
  } finally {
    await again.close();
  }
});

it.skipIf(process.platform === 'darwin' || process.platform === 'win32')('npm start -- --open on a machine with no display says so and prints the manual steps', async () => {
  const start = await runStart({ args: ['--open', '--no-build'], env: { DISPLAY: undefined, WAYLAND_DISPLAY: undefined } });
  try {
    const output = await start.printed(SUMMARY_END);
    expect(output).toContain('--open: this machine has no display (DISPLAY and WAYLAND_DISPLAY are unset), so no browser was opened');
    expect(output).toContain('Load unpacked');
    expect(readSummary(output).code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
  } finally {
    await start.close();
  }
});

it('npm start -- --open opens Chromium with the extension in a throwaway profile, on its options page; Ctrl-C closes it', async () => {
  // The machine has no display: the browser that --open starts runs headless here, and the test watches
  // it through a DevTools port of its own. Everything else is --open's command line.
  const dir = mkdtempSync(join(tmpdir(), 'cs-open-'));
  const debugPort = await freePort();
  const wrapper = join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${CHROMIUM} --headless=new --remote-debugging-port=${debugPort} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const start = await runStart({ args: ['--open', '--no-build'], env: { DISPLAY: ':0', CHROME_PATH: wrapper } });
  try {
    const output = await start.printed("Chromium is on the extension's options page");
    const code = readSummary(output).code;
    const profile = /throwaway profile (\S+), removed/.exec(output)?.[1];
    expect(profile && existsSync(profile)).toBe(true);
    // The code is printed right above the browser it goes into.
    expect(output.indexOf(code)).toBeLessThan(output.indexOf('Opening Chromium'));

    const browser = await chromium.connectOverCDP(`http://127.0.0.1:${debugPort}`);
    try {
      const pages = () => browser.contexts().flatMap((c) => c.pages());
      await expect.poll(() => pages().map((p) => p.url()), { timeout: 15_000 }).toContain(`chrome-extension://${EXTENSION_ID}/options.html`);
      const options = pages().find((p) => p.url().endsWith('/options.html'))!;
      await options.getByRole('heading', { name: 'Countersign settings' }).waitFor({ timeout: 15_000 });
      await options.getByLabel('Enrollment code').waitFor();
      // A person drives this browser: not marked automated, which Countersign would take for an assistant.
      expect(await options.evaluate(() => navigator.webdriver)).toBe(false);
    } finally {
      await browser.close().catch(() => undefined);
    }

    expect(await start.interrupt()).toBe(0);
    expect(existsSync(profile!)).toBe(false);
    await expect.poll(() => down(`http://127.0.0.1:${debugPort}/json/version`), { timeout: 10_000 }).toBe('down');
  } finally {
    await start.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
