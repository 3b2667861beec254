// All three submission paths are held and released: fetch, XMLHttpRequest, and a form the
// assistant filled and submitted by script; a released token re-sent is refused by the tool.
import { enrollAs, expect, test } from '../helpers/browser/fixtures';
import { ForumPage } from '../helpers/browser/pages/demo-pages';
import { PopupPage } from '../helpers/browser/pages/extension-pages';
import type { ExtensionBrowser } from '../helpers/browser/browser';
import type { Stack } from '../helpers/browser/stack';

/** Enrolled as alice, signed in to Intraforum as `user`, on topic 1. */
async function onTopic(browser: ExtensionBrowser, stack: Stack, user = 'alice'): Promise<ForumPage> {
  await enrollAs(browser, stack);
  const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
  await forum.signIn(user);
  await forum.openTopic(1);
  return forum;
}

const XHR_BODY = '{"body":"Posted by an assistant through XMLHttpRequest.","author_kind":"assistant"}';

test('an assistant post sent by XMLHttpRequest is held, approved and released with the real response', async ({ browser, stack }) => {
  const forum = await onTopic(browser, stack);
  const status = forum.page.evaluate(
    (body) =>
      new Promise<number>((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', '/api/topics/1/replies');
        xhr.setRequestHeader('content-type', 'application/json');
        xhr.setRequestHeader('X-Assistant', 'agent:forum-helper');
        xhr.onloadend = () => resolve(xhr.status);
        xhr.send(body);
      }),
    XHR_BODY,
  );
  const popup = await PopupPage.open(browser);
  await popup.action('agent:forum-helper', 'forum.post').waitFor({ timeout: 15_000 });
  await popup.approve('agent:forum-helper', 'forum.post');
  expect(await status).toBe(201);
  expect(stack.demo.store.listReplies(1).at(-1)).toMatchObject({ body: 'Posted by an assistant through XMLHttpRequest.', receipt: expect.stringMatching(/^ey/) });
});

test('a reply the assistant typed into the form and submitted by script is held, then submitted with the token field', async ({ browser, stack }) => {
  const forum = await onTopic(browser, stack);
  await forum.page.evaluate(() => {
    const form = document.querySelector<HTMLFormElement>('form.reply')!;
    form.querySelector('textarea')!.value = 'A reply the assistant wrote into the form.';
    form.requestSubmit();
  });
  const popup = await PopupPage.open(browser);
  const item = popup.action('agent:forum-helper', 'forum.post');
  await item.waitFor({ timeout: 15_000 });
  // Filled by script: no trusted input event ever reached the field. (Playwright's evaluate runs
  // with a user gesture, so no-user-activation is not among the signals here.)
  expect(await item.textContent()).toContain('scripted-content');
  const navigated = forum.page.waitForURL(/\/t\/1/, { waitUntil: 'load' });
  await popup.approve('agent:forum-helper', 'forum.post');
  await navigated;
  await expect.poll(() => stack.demo.store.listReplies(1).at(-1)?.body, { timeout: 15_000 }).toBe('A reply the assistant wrote into the form.');
  expect(stack.demo.store.listReplies(1).at(-1)?.receipt).toMatch(/^ey/);
});

test('a form submitted through a named button with its own formaction is released as that button sends it', async ({ browser, stack }) => {
  const forum = await onTopic(browser, stack);
  await forum.page.evaluate(() => {
    const form = document.querySelector<HTMLFormElement>('form.reply')!;
    form.setAttribute('action', '/nowhere');
    const button = document.createElement('button');
    Object.assign(button, { name: 'intent', value: 'reply' });
    button.setAttribute('formaction', '/api/topics/1/replies');
    form.querySelector('textarea')!.after(button);
    form.querySelector('textarea')!.value = 'Sent through the named button.';
    form.requestSubmit(button);
  });
  const popup = await PopupPage.open(browser);
  const item = popup.action('agent:forum-helper', 'forum.post');
  await item.waitFor({ timeout: 15_000 });
  // The button's name=value is part of what the owner sees and signs.
  expect(await item.getByLabel('Also in the request').textContent()).toContain('intentreply');
  const navigated = forum.page.waitForURL(/\/t\/1/, { waitUntil: 'load' });
  await popup.approve('agent:forum-helper', 'forum.post');
  await navigated;
  await expect.poll(() => stack.demo.store.listReplies(1).at(-1)?.body, { timeout: 15_000 }).toBe('Sent through the named button.');
  expect(stack.demo.store.listReplies(1).at(-1)?.receipt).toMatch(/^ey/);
});

test('a released token re-sent by the page is refused by the tool (replayed)', async ({ browser, stack }) => {
  const forum = await onTopic(browser, stack);
  const sent = forum.page.waitForRequest((r) => r.method() === 'POST' && r.headers()['countersign-approval'] !== undefined, { timeout: 30_000 });
  await forum.askAssistant();
  const popup = await PopupPage.open(browser);
  await popup.action('agent:forum-helper', 'forum.post').waitFor({ timeout: 15_000 });
  await popup.approve('agent:forum-helper', 'forum.post');
  const request = await sent;
  await expect.poll(() => forum.page.locator('[data-assistant-status]').textContent(), { timeout: 15_000 }).toBe('Posted');

  // Replayed straight at the tool with the person's session, as a page script or an agent could.
  const direct = await fetch(`${stack.forumUrl}/api/topics/1/replies`, {
    method: 'POST',
    headers: { ...request.headers(), cookie: (await browser.context.cookies(stack.forumUrl)).map((c) => `${c.name}=${c.value}`).join('; ') },
    body: request.postData()!,
  });
  expect(direct.status).toBe(409);
  expect(((await direct.json()) as { error: { code: string } }).error.code).toBe('replayed');
});

test.describe('as a person (no automation flag)', () => {
  test.override({ asPerson: true });

  test('a fetch made with a Request object that is not held goes out unchanged, body intact', async ({ browser, stack }) => {
    const forum = await onTopic(browser, stack, 'bob');
    const status = await forum.page.evaluate(async () => {
      const req = new Request('/api/topics/1/replies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ body: 'Sent with a Request object.' }) });
      return (await fetch(req)).status;
    });
    expect(status).toBe(201);
    expect(stack.demo.store.listReplies(1).at(-1)).toMatchObject({ author: 'bob', body: 'Sent with a Request object.', receipt: null });
  });
});
