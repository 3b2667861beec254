// Every way a held action ends, in real Chromium: rejected, expired, changed by the page, blocked,
// killed, released after a service-worker stop; a person's own typing passes; the access console
// shows its diff and applies the change only after approval.
import { enrollAs, expect, test } from '../helpers/browser/fixtures';
import { ConsolePage, ForumPage } from '../helpers/browser/pages/demo-pages';
import { PopupPage } from '../helpers/browser/pages/extension-pages';
import { extensionLog } from '../helpers/browser/extension-log';
import { screenshot } from '../helpers/browser/screenshots';

async function forumAsAlice(browser: Parameters<typeof enrollAs>[0], stack: Parameters<typeof enrollAs>[1]): Promise<ForumPage> {
  await enrollAs(browser, stack);
  const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  return forum;
}

const status = (forum: ForumPage) => forum.page.locator('[data-assistant-status]');

test('a rejected post never reaches the tool; the page sees the refusal; the log says rejected', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  const before = stack.demo.store.listReplies(1).length;
  await forum.askAssistant();
  const popup = await PopupPage.open(browser);
  await popup.action('agent:forum-helper', 'forum.post').waitFor({ timeout: 15_000 });
  await popup.reject('agent:forum-helper', 'forum.post', 'wrong: payroll stays team-only');
  await expect.poll(() => status(forum).textContent(), { timeout: 15_000 }).toContain('rejected');
  expect(stack.demo.store.listReplies(1).length).toBe(before);
  const log = await extensionLog(browser);
  expect(log.filter((e) => e.agent === 'agent:forum-helper').map((e) => e.type)).toEqual(['proposed', 'held', 'rejected']);
  expect(log.find((e) => e.type === 'rejected')?.detail).toMatchObject({ reason: 'wrong: payroll stays team-only' });
});

test.describe('with a 10-second approval lifetime', () => {
  test.override({ policy: { approvalTtlSeconds: 10 } });

  test('a post not approved within its TTL ends expired, logged, and the page is told', async ({ browser, stack }) => {
    const forum = await forumAsAlice(browser, stack);
    await forum.askAssistant();
    const popup = await PopupPage.open(browser);
    await popup.action('agent:forum-helper', 'forum.post').waitFor({ timeout: 15_000 });
    await popup.page.waitForTimeout(10_500);
    await popup.page.reload();
    await expect.poll(() => status(forum).textContent(), { timeout: 15_000 }).toContain('expired');
    expect((await extensionLog(browser)).map((e) => e.type)).toContain('expired');
    expect(await popup.action('agent:forum-helper', 'forum.post').count()).toBe(0);
  });
});

test('the page altering a held form before release: refused and logged failed, nothing sent', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  const before = stack.demo.store.listReplies(1).length;
  await forum.page.evaluate(() => {
    const form = document.querySelector<HTMLFormElement>('form.reply')!;
    form.querySelector('textarea')!.value = 'What the owner will see.';
    // Programmatic submit(): no submit event at all, caught by the page-world hook.
    form.submit();
  });
  const popup = await PopupPage.open(browser);
  await popup.action('agent:forum-helper', 'forum.post').waitFor({ timeout: 15_000 });
  await forum.page.evaluate(() => {
    document.querySelector<HTMLFormElement>('form.reply')!.querySelector('textarea')!.value = 'Something else entirely.';
  });
  await popup.approve('agent:forum-helper', 'forum.post');
  await expect.poll(async () => (await extensionLog(browser)).map((e) => e.type), { timeout: 15_000 }).toContain('failed');
  const failed = (await extensionLog(browser)).find((e) => e.type === 'failed');
  expect(failed?.detail).toMatchObject({ reason: 'the page changed the form after approval' });
  expect(stack.demo.store.listReplies(1).length).toBe(before);
});

test('the access console: the assistant\'s change shows before → after, and applies only after approval', async ({ browser, stack }) => {
  await enrollAs(browser, stack);
  const console = new ConsolePage(await browser.context.newPage(), stack.consoleUrl);
  await console.signIn('alice');
  await console.openDataset('payroll-2026');
  await console.applySuggestion();
  const popup = await PopupPage.open(browser);
  const item = popup.action('agent:access-helper', 'admin.acl.write');
  await item.waitFor({ timeout: 15_000 });
  const row = item.getByRole('row', { name: /visibility/ });
  expect(await row.getByRole('cell').allTextContents()).toEqual(['team-only', 'all-employees']);
  expect(stack.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
  await popup.page.setViewportSize({ width: 420, height: 640 });
  await screenshot(popup.page, 'popup-held-access-change');
  await popup.approve('agent:access-helper', 'admin.acl.write');
  await expect.poll(() => stack.demo.store.datasetAccess('payroll-2026')?.visibility, { timeout: 15_000 }).toBe('all-employees');
  expect(stack.demo.store.accessHistory('payroll-2026').at(-1)).toMatchObject({ receipt: expect.stringMatching(/^ey/) });
});

test.describe('as a person (no automation flag)', () => {
  test.override({ asPerson: true });

  test('a person typing and clicking submit passes straight through, unheld', async ({ browser, stack }) => {
    const forum = await forumAsAlice(browser, stack);
    const box = forum.page.getByRole('textbox', { name: 'Reply', exact: true });
    await box.click();
    await forum.page.keyboard.type('I typed this myself.');
    await forum.page.getByRole('button', { name: 'Post reply' }).click();
    await expect.poll(() => stack.demo.store.listReplies(1).at(-1)?.body, { timeout: 15_000 }).toBe('I typed this myself.');
    expect(stack.demo.store.listReplies(1).at(-1)?.receipt).toBeNull();
    expect((await extensionLog(browser)).filter((e) => e.type === 'held')).toHaveLength(0);
  });
});

test.describe('on a blocked site', () => {
  test.override({ policy: { blockedSites: ['http://127.0.0.1/*'] } });

  test('an assistant post is refused outright and logged blocked', async ({ browser, stack }) => {
    const forum = await forumAsAlice(browser, stack);
    const before = stack.demo.store.listReplies(1).length;
    await forum.askAssistant();
    await expect.poll(() => status(forum).textContent(), { timeout: 15_000 }).toContain('blocked');
    expect((await extensionLog(browser)).map((e) => e.type)).toEqual(expect.arrayContaining(['proposed', 'blocked']));
    expect(stack.demo.store.listReplies(1).length).toBe(before);
  });
});

test.describe('with the kill switch on', () => {
  test.override({ policy: { killSwitch: true } });

  test('a held post cannot be approved: nothing is released', async ({ browser, stack }) => {
    const forum = await forumAsAlice(browser, stack);
    const before = stack.demo.store.listReplies(1).length;
    await forum.askAssistant();
    const popup = await PopupPage.open(browser);
    const item = popup.action('agent:forum-helper', 'forum.post');
    await item.waitFor({ timeout: 15_000 });
    await expect.poll(() => item.getByRole('button', { name: 'Approve' }).isDisabled()).toBe(true);
    expect(await popup.page.getByRole('alert', { name: 'Kill switch' }).textContent()).toContain('administrator');
    await popup.page.waitForTimeout(1000);
    expect(stack.demo.store.listReplies(1).length).toBe(before);
  });
});

test('the service worker stopped while an action is held: still pending, and approvable after', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  await forum.askAssistant();
  let popup = await PopupPage.open(browser);
  await popup.action('agent:forum-helper', 'forum.post').waitFor({ timeout: 15_000 });
  await popup.page.close();

  const cdp = await browser.context.newCDPSession(forum.page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await forum.page.waitForTimeout(500);

  popup = await PopupPage.open(browser);
  await popup.action('agent:forum-helper', 'forum.post').waitFor({ timeout: 15_000 });
  await popup.approve('agent:forum-helper', 'forum.post');
  await expect.poll(() => status(forum).textContent(), { timeout: 15_000 }).toBe('Posted');
});
