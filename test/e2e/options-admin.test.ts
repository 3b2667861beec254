// The options page for admins in real Chromium (issue 19): managed policy with the demo's adapters and
// one an admin got wrong shows the problem (where from, which adapter and field, why, where it fails
// closed); "test this page" says a forum URL is protected by intraforum with its action, and the bad
// adapter's site fails closed, as the extension's registered content scripts show. Takes the README's
// and docs/admin.md's screenshots. One browser launch. Node only (browser tests).
import { resolve } from 'node:path';
import { demoAdapters } from '../../demo/adapters';
import { expect, test } from '../helpers/browser/fixtures';
import { OptionsPage } from '../helpers/browser/pages/extension-pages';
import { SCREENSHOT_DIR } from '../helpers/browser/screenshots';

/** The adapter an admin got wrong: a lower-case method, which no request ever has. */
const PAYROLL = { id: 'payroll', match: ['https://payroll.corp.example/*'], actions: [{ scope: 'payroll.write', request: { method: 'post', url: '/api/runs' } }] };

test.override('policy', ({ stack }) => ({
  adapters: JSON.stringify([...demoAdapters({ forum: stack.forumUrl, console: stack.consoleUrl }), PAYROLL]),
}));

test('an admin reads the policy problem and tests a forum URL and the bad adapter\'s site', async ({ browser, stack }) => {
  const options = await OptionsPage.open(browser);
  const page = options.page;
  await page.setViewportSize({ width: 1100, height: 900 });

  // The problem: where from, which adapter and field, why, and the site it fails closed.
  const problems = options.policyProblems();
  await problems.waitFor({ timeout: 15_000 });
  const problem = page.getByTestId('policy-problem');
  await expect.poll(() => problem.count()).toBe(1);
  expect(await problem.getAttribute('data-source')).toBe('managed');
  expect(await problem.textContent()).toMatch(/^managed adapters\[2\]\.actions\.0\.request\.method \(adapter payroll\): .+; Countersign fails closed on https:\/\/payroll\.corp\.example\/\* \(held, never released\)$/);
  // And the extension does what the page says: its holding scripts are registered there.
  const scripts = await browser.serviceWorker.evaluate(() => chrome.scripting.getRegisteredContentScripts());
  expect(scripts.find((s) => s.id === 'countersign-hold')?.matches).toContain('https://payroll.corp.example/*');
  await page.locator('section[aria-labelledby="policy-title"]').screenshot({ path: resolve(SCREENSHOT_DIR, 'options-policy-problems.png') });

  // A forum URL: protected by intraforum, from managed policy, with its one action.
  const field = page.getByLabel('Test a URL');
  expect(await field.inputValue()).toBe('');
  await field.fill(`${stack.forumUrl}/t/1`);
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  const answer = page.getByRole('status', { name: 'Page check' });
  await expect.poll(() => answer.getByTestId('page-check-verdict').textContent()).toBe('Protected by intraforum');
  expect(await answer.getByTestId('page-check-adapter').textContent()).toBe('Adapter intraforum, from managed policy');
  const actions = answer.getByRole('table', { name: 'Actions held on this page' }).getByRole('row');
  expect(await actions.nth(1).textContent()).toBe('forum.postPOST /api/topics/*/replieswhen an assistant sends it');
  await page.locator('section[aria-labelledby="test-page-title"]').screenshot({ path: resolve(SCREENSHOT_DIR, 'options-test-this-page.png') });

  // The bad adapter's site: fails closed, and why.
  await field.fill('https://payroll.corp.example/runs');
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  await expect.poll(() => answer.getByTestId('page-check-verdict').textContent()).toBe('Fails closed: held, never released, until the policy is fixed');
  expect(await answer.textContent()).toMatch(/Fails closed under https:\/\/payroll\.corp\.example\/\*.*Why: managed adapters\[2\]\.actions\.0\.request\.method \(adapter payroll\)/);

  // Input that is no URL: said so, nothing else.
  await field.fill('forum.corp.example/t/1');
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  await expect.poll(() => page.getByRole('alert', { name: 'Page check' }).textContent()).toMatch(/is not an absolute URL/);
});
