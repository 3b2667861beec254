// A policy bot in real Chromium: with a bot rule for short forum replies, an assistant's reply is
// released at once (nobody clicks), the popup lists it under "Approved by policy today", and readers'
// badges say "approved by policy <name>"; a reply outside the rule is held for its owner as before.
import { expect, test, enrollAs } from '../helpers/browser/fixtures';
import { ForumPage } from '../helpers/browser/pages/demo-pages';
import { PopupPage } from '../helpers/browser/pages/extension-pages';
import { badgesOnPage } from '../helpers/browser/shadow';
import { uploadPolicy } from '../helpers/browser/two-profiles';
import { defaultPolicyText } from '../../server/policy/engine';

const BOT_RULE = `
@id("short-replies")
@expires("2099-01-01T00:00:00Z")
permit (principal == Bot::"small-replies", action == Action::"approve", resource is Agent)
when { context.scope == "forum.post" && context.chars < 500 };
`;

test('a short assistant reply a bot rule covers is released at once, listed as approved by policy today, and badged as the bot\'s', async ({ browser, stack }) => {
  await uploadPolicy(stack, defaultPolicyText() + BOT_RULE);
  await enrollAs(browser, stack);
  const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  const before = stack.demo.store.listReplies(1).length;
  await forum.askAssistant();

  // Nobody approves: the bot's token releases it.
  await expect.poll(() => forum.page.locator('[data-assistant-status]').textContent(), { timeout: 15_000 }).toBe('Posted');
  const replies = stack.demo.store.listReplies(1);
  expect(replies.length).toBe(before + 1);
  const receipt = replies.at(-1)!.receipt!;
  expect(JSON.parse(Buffer.from(receipt.split('.')[1]!, 'base64url').toString())).toMatchObject({ apv: 'policy-bot:small-replies' });

  const popup = await PopupPage.open(browser);
  const today = popup.page.getByRole('region', { name: 'Approved by policy today' });
  await today.waitFor({ timeout: 15_000 });
  expect(await today.textContent()).toMatch(/approved by policy small-replies \(rule short-replies\): agent:forum-helper → forum\.post/);
  expect(await popup.page.getByRole('button', { name: 'Approve' }).count()).toBe(0);

  // The reader's badge: verified, and its details name the bot, not a person.
  await forum.page.reload();
  const id = `post-${replies.at(-1)!.id}`;
  await expect.poll(async () => (await badgesOnPage(forum.page)).find((b) => b.postId === id)?.state, { timeout: 15_000 }).toBe('verified');
  const host = await forum.page.locator(`#${id} countersign-badge`).boundingBox();
  await forum.page.mouse.click(host!.x + 10, host!.y + host!.height / 2);
  const opened = (await badgesOnPage(forum.page)).find((b) => b.postId === id)!;
  expect(opened.details).toMatch(/approved by policy small-replies/);
});

test('a reply outside the bot\'s rule (here: 10 characters or more) is held for its owner, as before', async ({ browser, stack }) => {
  await uploadPolicy(stack, defaultPolicyText() + BOT_RULE.replace('context.chars < 500', 'context.chars < 10'));
  await enrollAs(browser, stack);
  const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  const before = stack.demo.store.listReplies(1).length;
  await forum.askAssistant();
  const popup = await PopupPage.open(browser);
  await popup.action('agent:forum-helper', 'forum.post').waitFor({ timeout: 15_000 });
  expect(stack.demo.store.listReplies(1).length).toBe(before);
});
