// Smoke test of the whole system in real Chromium: the extension loads with its fixed id, its
// service worker runs, its pages open, admin policy reaches it, the demo tools answer, and the
// rogue agent's direct API calls are refused by the tools' middleware with DESIGN.md's codes.
import { runRogueAgent } from '../../demo/agent';
import { demoPolicy, expect, test } from '../helpers/browser/fixtures';
import { OptionsPage, PopupPage } from '../helpers/browser/pages/extension-pages';
import { ConsolePage, ForumPage } from '../helpers/browser/pages/demo-pages';
import { screenshot } from '../helpers/browser/screenshots';

test('the extension loads with its fixed id and its service worker runs', async ({ browser }) => {
  expect(browser.extensionId).toBe('leelpbfgmamkjjkciaifjeihgadjnmgj');
  expect(await browser.serviceWorker.evaluate(() => chrome.runtime.getManifest().name)).toBe('Countersign');
});

test('the managed admin policy reaches the extension through storage.managed', async ({ browser, stack }) => {
  const managed = await browser.serviceWorker.evaluate(() => chrome.storage.managed.get());
  expect(managed).toEqual(demoPolicy(stack));
});

test('the options page and the popup open by extension id', async ({ browser }) => {
  const options = await OptionsPage.open(browser);
  await expect.poll(() => options.heading().isVisible()).toBe(true);
  await screenshot(options.page, 'options');
  const popup = await PopupPage.open(browser);
  await expect.poll(() => popup.heading().isVisible()).toBe(true);
  await popup.page.setViewportSize({ width: 380, height: 480 });
  await screenshot(popup.page, 'popup');
});

test('the demo tools answer: a signed-in person sees the forum topic and the dataset page', async ({ browser, stack }) => {
  const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  await expect.poll(() => forum.posts().count()).toBeGreaterThan(0);
  await screenshot(forum.page, 'forum');

  const console = new ConsolePage(await browser.context.newPage(), stack.consoleUrl);
  await console.signIn('alice');
  await console.openDataset('payroll-2026');
  await expect.poll(() => console.page.getByRole('button', { name: 'Apply suggestion' }).isVisible()).toBe(true);
  await screenshot(console.page, 'console');
});

test('the rogue agent\'s direct API calls are refused with DESIGN.md codes; a person\'s post is accepted', async ({ stack }) => {
  const lines: string[] = [];
  const result = await runRogueAgent({ forumUrl: stack.forumUrl, consoleUrl: stack.consoleUrl, out: (l: string) => lines.push(l) });
  expect(result.ok).toBe(true);
  expect(lines.join('\n')).toMatch(/token_missing/);
  expect(stack.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
});
