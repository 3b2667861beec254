// The first run, as a newcomer has it: `npm start`, then only what it prints, in a fresh browser profile
// and with no managed policy anywhere (no root step). Enroll with the printed code; the verifier's
// organisation policy then protects both tools. Intraforum as alice, "Ask the assistant": held, in the
// popup, approved, posted with a verified badge. The Access console's suggestion: a before → after diff.
// Each step's screenshot is the README's quick start (docs/screenshots/first-run-*.png).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXTENSION_ID } from '@/lib/extension-identity';
import { PopupPage } from '../helpers/browser/pages/extension-pages';
import { launchWithExtension } from '../helpers/browser/browser';
import { managedPoliciesNamingCountersign, removeManagedPolicy, setManagedPoliciesAside } from '../helpers/browser/managed-policy';
import { waitForProtection } from '../helpers/browser/protection';
import { screenshot } from '../helpers/browser/screenshots';
import { badgesOnPage } from '../helpers/browser/shadow';
import { readSummary, runStart, SUMMARY_END } from '../helpers/browser/start-process';

let putBack: () => void = () => undefined;
beforeAll(() => {
  // The suite's own file, should a killed run have left it, then any other that names Countersign.
  removeManagedPolicy();
  putBack = setManagedPoliciesAside();
});
afterAll(() => putBack());

/** Signs in on a demo tool from the URL the summary printed: it sends a stranger to its sign-in page first. */
async function signInAt(page: Page, url: string, user: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('User').selectOption(user);
  await Promise.all([page.waitForURL(url), page.getByRole('button', { name: 'Sign in' }).click()]);
}

it('npm start, then only what it prints: enrolled, the assistant held, approved in the popup, posted verified; the access change as a diff', async () => {
  const start = await runStart({ args: ['--no-build'] });
  try {
    const output = await start.printed(SUMMARY_END);
    const printed = readSummary(output);
    expect(printed.forumUrl).toBe(`http://127.0.0.1:${start.ports.forum}/t/1`);
    expect(printed.enrollVerifierUrl).toBe(printed.verifierUrl);
    expect(printed.extensionDir).not.toBeNull();
    expect(printed.optionsUrl).toBe(`chrome-extension://${EXTENSION_ID}/options.html`);
    // A first run has no managed policy: nothing to copy as root, the verifier's copy protects.
    expect(managedPoliciesNamingCountersign()).toEqual([]);

    // Step 1: the printed folder, loaded into a fresh profile; a person drives it.
    const browser = await launchWithExtension({ extensionDir: printed.extensionDir!, asPerson: true });
    try {
      expect(await browser.serviceWorker.evaluate(() => chrome.storage.managed.get())).toEqual({});

      // Step 2: the options page, the printed verifier URL and code, Enroll.
      const options = await browser.context.newPage();
      // The person's authenticator, before the page registers the device's credential with it.
      await browser.authenticator.attach(options);
      await options.goto(printed.optionsUrl!);
      await options.getByLabel('Verifier URL').fill(printed.enrollVerifierUrl);
      await options.getByLabel('Enrollment code').fill(printed.code);
      await screenshot(options, 'first-run-1-options');
      await options.getByRole('button', { name: 'Enroll' }).click();
      await expect.poll(() => options.getByTestId('enrolled-user').textContent().catch(() => null), { timeout: 15_000 }).toBe('alice');
      // The verifier's organisation policy arrives with enrollment: both tools protected, with their adapters.
      const row = (key: string) => options.getByRole('row', { name: new RegExp(`^${key}\\b`) });
      await expect
        .poll(
          async () => {
            await options.reload();
            return row('protectedSites').textContent();
          },
          { timeout: 30_000, interval: 1000 },
        )
        .toMatch(/verifier \(version \d+\)/);
      expect(await row('protectedSites').textContent()).toContain(`127.0.0.1:${start.ports.forum}`);
      expect(await row('adapters').textContent()).toMatch(/intraforum.*access-console/s);
      // No managed policy: the verifier in use is the one enrolled with, and says so (not "(not set)").
      expect(await options.getByTestId('policy-source-verifierUrl').textContent()).toBe('enrollment');
      expect(await options.getByTestId('verifier-in-use').textContent()).toBe(`${printed.enrollVerifierUrl} (from enrollment)`);
      await expect.poll(async () => (await options.getByTestId('verifier-status').textContent())?.startsWith(`reachable: ${printed.enrollVerifierUrl}, policy `)).toBe(true);
      await waitForProtection(browser);
      await screenshot(options, 'first-run-2-enrolled');

      // Step 3: Intraforum as alice, "Ask the assistant": held, the page says so, the popup shows it.
      const forum = await browser.context.newPage();
      await signInAt(forum, printed.forumUrl, 'alice');
      await forum.getByRole('button', { name: 'Ask the assistant' }).click();
      await expect.poll(() => forum.locator('countersign-hold-notice').count(), { timeout: 15_000 }).toBe(1);
      expect(await forum.locator('[data-assistant-status]').textContent()).not.toBe('Posted');
      await screenshot(forum, 'first-run-3-held');

      const popup = await PopupPage.open(browser);
      await popup.page.setViewportSize({ width: 420, height: 440 });
      const post = popup.action('agent:forum-helper', 'forum.post');
      await post.waitFor({ timeout: 15_000 });
      expect(await post.getByLabel('Post text').textContent()).toContain('payroll-2026 is team-only');
      await screenshot(popup.page, 'first-run-4-popup-held');
      await popup.approve('agent:forum-helper', 'forum.post');

      // Posted, and readers see the verified badge on it.
      await expect.poll(() => forum.locator('[data-assistant-status]').textContent(), { timeout: 15_000 }).toBe('Posted');
      const newest = await forum.locator('article.post').last().getAttribute('id');
      await expect.poll(async () => (await badgesOnPage(forum)).find((b) => b.postId === newest)?.state, { timeout: 15_000 }).toBe('verified');
      await forum.bringToFront();
      await screenshot(forum, 'first-run-5-posted');

      // The Access console as alice: the assistant's suggestion, held, shown field by field.
      const accessConsole = await browser.context.newPage();
      await signInAt(accessConsole, printed.consoleUrl, 'alice');
      await accessConsole.getByRole('button', { name: 'Apply suggestion' }).click();
      await popup.page.reload();
      const change = popup.action('agent:access-helper', 'admin.acl.write');
      await change.waitFor({ timeout: 15_000 });
      expect(await change.getByRole('row', { name: /visibility/ }).getByRole('cell').allTextContents()).toEqual(['team-only', 'all-employees']);
      await screenshot(popup.page, 'first-run-6-popup-access-diff');
      await popup.approve('agent:access-helper', 'admin.acl.write');
      await expect.poll(() => accessConsole.locator('[data-access-status]').textContent(), { timeout: 15_000 }).toMatch(/^Saved: all-employees/);
    } finally {
      await browser.close();
    }
    expect(managedPoliciesNamingCountersign()).toEqual([]);
  } finally {
    await start.close();
  }
});
