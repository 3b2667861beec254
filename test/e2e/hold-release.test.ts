// Hold, review, release in real Chromium against the demo tools and a running verifier: an
// assistant's post is held until its owner approves it in the popup, then released with the token
// and accepted by the tool, which stores the receipt.
import { enrollAs, expect, test } from '../helpers/browser/fixtures';
import { ForumPage } from '../helpers/browser/pages/demo-pages';
import { PopupPage } from '../helpers/browser/pages/extension-pages';
import { screenshot } from '../helpers/browser/screenshots';

test('an assistant post sent by fetch is held, approved in the popup, released and stored with its receipt', async ({ browser, stack }) => {
  await enrollAs(browser, stack);
  const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  const before = stack.demo.store.listReplies(1).length;
  await forum.askAssistant();

  const popup = await PopupPage.open(browser);
  const item = popup.action('agent:forum-helper', 'forum.post');
  await item.waitFor({ timeout: 15_000 });
  expect(await item.getByLabel('Post text').textContent()).toContain('payroll-2026 is team-only');
  // The rest of the signed body is shown too, not only its text.
  expect(await item.getByLabel('Also in the request').textContent()).toContain('author_kindassistant');
  expect(stack.demo.store.listReplies(1).length).toBe(before);
  // The page shows the hold notice (a closed shadow root: only its host is visible from outside),
  // and the toolbar badge counts what waits.
  expect(await forum.page.locator('countersign-hold-notice').count()).toBe(1);
  expect(await browser.serviceWorker.evaluate(() => chrome.action.getBadgeText({}))).toBe('1');
  await popup.page.setViewportSize({ width: 420, height: 520 });
  await screenshot(popup.page, 'popup-held-post');

  // Keyboard alone: Tab to the item's Approve button and press Enter.
  const approve = item.getByRole('button', { name: 'Approve' });
  for (let i = 0; i < 10 && !(await approve.evaluate((el) => el === document.activeElement)); i++) await popup.page.keyboard.press('Tab');
  await popup.page.keyboard.press('Enter');
  await expect.poll(() => forum.page.locator('[data-assistant-status]').textContent(), { timeout: 15_000 }).toBe('Posted');
  expect(await browser.serviceWorker.evaluate(() => chrome.action.getBadgeText({}))).toBe('');
  const replies = stack.demo.store.listReplies(1);
  expect(replies.length).toBe(before + 1);
  expect(replies.at(-1)?.receipt).toMatch(/^ey/);
  await screenshot(forum.page, 'forum-released');
});
