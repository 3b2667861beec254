// Smoke test of the whole system in real Firefox (Debian's ESR, WebDriver BiDi): the extension installs
// under its gecko id and runs its background as an event page, admin policy from policies.json reaches
// it, a browser enrolls in the options page, an assistant's forum post is held, approved in the popup,
// released and badged, a person's post goes straight through, and the verifier's kill switch stops approval.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { GECKO_ID } from '@/lib/extension-identity';
import { EXTENSION_ORIGIN } from '../helpers/firefox/firefox';
import { FirefoxForumPage, FirefoxOptionsPage, FirefoxPopupPage } from '../helpers/firefox/pages';
import { demoPolicy, enrollmentCode, startFirefoxWorld } from '../helpers/firefox/world';
import type { FirefoxWorld } from '../helpers/firefox/world';

let world: FirefoxWorld;

beforeAll(async () => {
  world = await startFirefoxWorld();
});

afterAll(async () => {
  await world?.close();
});

test('the extension installs under its gecko id, runs its background as an event page, on its moz-extension origin', async () => {
  expect(world.firefox.addonId).toBe(GECKO_ID);
  const { background, origin } = await world.state.runtime();
  // Firefox reports the event page's script by its full moz-extension:// URL.
  expect(background.scripts).toEqual([`${EXTENSION_ORIGIN}/background.js`]);
  expect(background.service_worker ?? null).toBeNull();
  expect(origin).toBe(`${EXTENSION_ORIGIN}/`);
});

test('admin policy in policies.json as `policy-template firefox` generates it (3rdparty → Extensions) reaches storage.managed and the options page; the demo sites are protected, ports and all', async () => {
  expect(await world.state.managedPolicy()).toEqual(demoPolicy(world.stack));
  // Firefox has no ports in match patterns: the scripts are registered per host, and the background
  // decides from the policy's own patterns, ports included, which pages they protect.
  const hold = (await world.state.registeredScripts()).find((s) => s.id === 'countersign-hold');
  expect(hold?.matches.sort()).toEqual(['http://127.0.0.1/*', 'http://localhost/*']);
  const options = await FirefoxOptionsPage.open(world.firefox);
  expect(await options.policyRow('verifierUrl')).toEqual({ value: world.stack.verifierUrl, source: 'managed' });
  expect(await options.policyProblems(false)).toEqual([]);
  await options.page.close();
});

test('the browser enrolls through the options page, without an authenticator', async () => {
  const options = await FirefoxOptionsPage.open(world.firefox);
  expect(await options.enrollWithoutAuthenticator(await enrollmentCode(world.stack))).toBe('alice');
  await options.page.close();
});

test('an assistant post is held, shown in the popup, approved, released with its receipt and badged', async () => {
  const { stack, firefox, state } = world;
  const forum = new FirefoxForumPage(await firefox.newPage(), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  const before = stack.demo.store.listReplies(1).length;
  await forum.askAssistant();

  const popup = await FirefoxPopupPage.open(firefox);
  const item = await popup.action('agent:forum-helper', 'forum.post');
  expect(await popup.actionPart(item, 'Post text')).toContain('payroll-2026 is team-only');
  expect(stack.demo.store.listReplies(1).length).toBe(before);
  expect(await forum.holdNoticeCount()).toBe(1);
  expect(await state.badgeText()).toBe('1');

  await (await popup.approveButton(item)).click();
  await forum.page.waitForFunction(() => document.querySelector('[data-assistant-status]')?.textContent === 'Posted', { timeout: 15_000 });
  expect(await state.badgeText()).toBe('');
  const replies = stack.demo.store.listReplies(1);
  expect(replies.length).toBe(before + 1);
  expect(replies.at(-1)?.receipt).toMatch(/^ey/);
  // The released post carries the receipt the badges read: the reader sees it badged.
  await forum.page.reload();
  await forum.page.waitForSelector(`#post-${replies.at(-1)!.id} countersign-badge`, { timeout: 15_000 });
  expect(await state.badgesOn(`${stack.forumUrl}/t/1`)).toMatchObject({ [`post-${replies.at(-1)!.id}`]: 'verified' });
  expect((await state.log()).map((e) => e.type)).toEqual(expect.arrayContaining(['held', 'approved', 'released']));
  await popup.page.close();
  await forum.page.close();
});

test('a person typing a reply and clicking "Post reply" goes straight through, unheld', async () => {
  const { stack, firefox, state } = world;
  const forum = new FirefoxForumPage(await firefox.newPage({ asPerson: true }), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  const heldBefore = (await state.log()).filter((e) => e.type === 'held').length;
  await forum.typeAndPostReply('I typed this myself, in Firefox.');
  await expect.poll(() => stack.demo.store.listReplies(1).at(-1)?.body, { timeout: 15_000 }).toBe('I typed this myself, in Firefox.');
  expect(stack.demo.store.listReplies(1).at(-1)?.receipt).toBeNull();
  expect((await state.log()).filter((e) => e.type === 'held')).toHaveLength(heldBefore);
  await forum.page.close();
});

// Last: the kill switch stays engaged for the rest of the file.
test('the kill switch engaged on the verifier: the popup says so, a held post cannot be approved, nothing is released', async () => {
  const { stack, firefox } = world;
  expect((await stack.admin('POST', '/v1/admin/kill', { scope: 'global' })).ok).toBe(true);
  const forum = new FirefoxForumPage(await firefox.newPage(), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  const before = stack.demo.store.listReplies(1).length;
  await forum.askAssistant();
  const popup = await FirefoxPopupPage.open(firefox);
  expect(await popup.killSwitchNotice()).toContain("verifier's kill switch");
  const item = await popup.action('agent:forum-helper', 'forum.post');
  const approve = await popup.approveButton(item);
  await popup.page.waitForFunction((button) => button.disabled, {}, approve);
  expect(stack.demo.store.listReplies(1).length).toBe(before);
  await popup.page.close();
  await forum.page.close();
});
