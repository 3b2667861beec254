// Countersign in front of a real tool: Debian's MediaWiki 1.39 behind the gateway, behind HAProxy as
// the company's authenticating proxy, in real Chromium with the built extension, alice enrolled and
// signed in to the wiki in the page. An assistant's scripted edit is held and reviewed as a word diff
// of the wikitext, and saved only once she approves (and never when she rejects); her own typed edit
// goes straight through; her own rights change is held because the gateway's route requires a
// countersignature always; a reader sees the saved revision verified, its receipt found by its text.
// One browser and one stack for the file (started and stopped here); the tests run in order.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page, Response } from 'playwright-core';
import { launchWithExtension } from '../helpers/browser/browser';
import type { ExtensionBrowser } from '../helpers/browser/browser';
import { extensionLog } from '../helpers/browser/extension-log';
import { removeManagedPolicy, writeManagedPolicy } from '../helpers/browser/managed-policy';
import { PopupPage } from '../helpers/browser/pages/extension-pages';
import { UserRightsPage, WikiPage } from '../helpers/browser/pages/mediawiki-pages';
import { enrollAs, waitForProtection } from '../helpers/browser/protection';
import { badgesOnPage } from '../helpers/browser/shadow';
import { ALICE, WIKI_AGENT, startWikiStack } from '../helpers/browser/wiki-stack';
import type { WikiStack } from '../helpers/browser/wiki-stack';

/** The page test 1 edits and test 5 reads. Plain one-paragraph text over two lines: it renders as its own words. */
const RUNBOOK = { title: 'Deploy runbook', before: 'The deploy runbook lives on the team drive.', after: 'The deploy runbook lives in this wiki.\nAsk the platform team before a deploy.' };
const ONBOARDING = { title: 'Onboarding', before: 'New engineers get a laptop on day one.', after: 'New engineers get production admin rights on day one.' };
const LUNCH = { title: 'Lunch menu', before: 'Soup on Monday.', after: 'Tacos on Friday.' };

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

let env: WikiStack;
let browser: ExtensionBrowser;
let wiki: WikiPage;
/** Set by test 1 once its approved edit is saved; test 5 reads that revision. */
let approvedRevision: number | undefined;

/** Every POST the page sends to the edit form's action, with its body as sent. */
function editPosts(page: Page): Array<{ url: string; contentType: string; body: string }> {
  const seen: Array<{ url: string; contentType: string; body: string }> = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).searchParams.get('action') === 'submit') seen.push({ url: r.url(), contentType: r.headers()['content-type'] ?? '', body: r.postData() ?? '' });
  });
  return seen;
}

/** The answer to the next POST the page sends (a released form). */
const submitAnswer = (page: Page) => page.waitForResponse((r) => r.request().method() === 'POST', { timeout: 15_000 });

/** MediaWiki answers a save with a 302 to the saved page; anything else (the gateway's refusal, the form again) is shown. */
async function expectSaved(answer: Response): Promise<void> {
  expect(answer.status(), answer.status() === 302 ? '' : `${answer.status()} ${await answer.text()}`).toBe(302);
}

const eventsOf = async (type: string) => (await extensionLog(browser)).filter((e) => e.type === type);

beforeAll(async () => {
  env = await startWikiStack();
  for (const page of [RUNBOOK, ONBOARDING, LUNCH]) await env.wiki.createPage(page.title, page.before);
  writeManagedPolicy(env.policy);
  // Playing a person (navigator.webdriver hidden): an assistant is told apart by what it does, not by the automation flag.
  browser = await launchWithExtension({ asPerson: true });
  await waitForProtection(browser);
  await enrollAs(browser, env.stack, ALICE);
  wiki = new WikiPage(await browser.context.newPage(), env.origin);
  await wiki.signIn(env.wiki.users.alice);
});

afterAll(async () => {
  await browser?.close();
  removeManagedPolicy();
  await env?.close();
});

describe('MediaWiki behind the gateway', () => {
  test('an assistant\'s scripted edit is held as a word diff of the wikitext, approved, released with the token field, and saved as Alice', async () => {
    const { title, before, after } = RUNBOOK;
    const base = await env.wiki.latestRevision(title);
    await wiki.openEditor(title);
    const posts = editPosts(wiki.page);
    await wiki.assistantSubmits(after);

    const popup = await PopupPage.open(browser);
    const item = popup.action(WIKI_AGENT, 'wiki.edit');
    await item.waitFor({ timeout: 15_000 });
    // Filled by script: no person typed the text. (requestSubmit fires a trusted submit event, and
    // Playwright's evaluate runs with a user gesture: the content is the signal here.)
    expect(await item.textContent()).toContain('scripted-content');
    expect(posts).toHaveLength(0);
    expect(await env.wiki.pageText(title)).toBe(before);
    // A word diff against the text at page load: only the changed words are marked.
    const text = item.getByLabel('Post text');
    expect(await text.locator('del').allTextContents()).toEqual(['on', 'drive']);
    expect((await text.locator('ins').allTextContents()).map(collapse)).toEqual(['in this wiki. Ask', 'platform', 'before a deploy']);
    expect(collapse((await text.textContent()) ?? '')).toContain('The deploy runbook lives');

    const answer = submitAnswer(wiki.page);
    await popup.approve(WIKI_AGENT, 'wiki.edit');
    await expectSaved(await answer);
    await wiki.waitForArticle(title);
    expect(await env.wiki.pageText(title)).toBe(after);
    const saved = await env.wiki.latestRevision(title);
    expect(saved).toMatchObject({ user: 'Alice', parentid: base!.revid });
    // The form went out once, as the browser submits it (multipart), the owner's token in its own field.
    expect(posts).toHaveLength(1);
    expect(posts[0]!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(posts[0]!.body).toMatch(/name="countersign_approval"\r\n\r\ney[\w-]+\.ey[\w-]+\.[\w-]+\r\n/);
    approvedRevision = saved!.revid;
    await popup.page.close();
  });

  test('a rejected assistant edit never reaches MediaWiki', async () => {
    const { title, before, after } = ONBOARDING;
    const base = await env.wiki.latestRevision(title);
    await wiki.openEditor(title);
    const posts = editPosts(wiki.page);
    await wiki.assistantSubmits(after);

    const popup = await PopupPage.open(browser);
    await popup.action(WIKI_AGENT, 'wiki.edit').waitFor({ timeout: 15_000 });
    await popup.reject(WIKI_AGENT, 'wiki.edit', 'nobody gets production admin on day one');
    await expect.poll(async () => (await eventsOf('rejected')).some((e) => e.agent === WIKI_AGENT && e.detail?.reason === 'nobody gets production admin on day one'), { timeout: 15_000 }).toBe(true);
    await wiki.page.waitForTimeout(500);

    expect(posts).toHaveLength(0);
    expect(await env.wiki.latestRevision(title)).toEqual(base);
    // Through the proxy and the gateway, as alice reads it, too.
    const raw = await fetch(`${env.origin}/index.php?title=${title}&action=raw`);
    expect((await raw.text()).trimEnd()).toBe(before);
    await popup.page.close();
  });

  test('a person\'s own typed edit, Save clicked, goes through at once with no hold', async () => {
    const { title, after } = LUNCH;
    const held = (await eventsOf('held')).length;
    await wiki.openEditor(title);
    await wiki.typeAndSave(after);
    await wiki.waitForArticle(title);
    expect(await env.wiki.pageText(title)).toBe(after);
    expect(await env.wiki.latestRevision(title)).toMatchObject({ user: 'Alice' });
    expect(await eventsOf('held')).toHaveLength(held);
    expect(await wiki.holdNotice().count()).toBe(0);
  });

  test('Alice\'s own rights change is held (the route requires "always"): rejected it changes nothing, approved it lands', async () => {
    const rights = new UserRightsPage(wiki.page, env.origin);
    const agent = `user:${ALICE}`;
    expect(await env.wiki.userGroups('Bob')).toEqual([]);

    // Ticked and saved by her own hand: held all the same, and refused.
    await rights.open('Bob');
    await rights.group('bot').check();
    await rights.saveButton().click();
    const popup = await PopupPage.open(browser);
    const item = popup.action(agent, 'wiki.rights');
    await item.waitFor({ timeout: 15_000 });
    expect(await item.textContent()).toContain('this change always needs a signed review');
    // Field by field against the form at page load: the box was unticked, now it is.
    expect(await item.getByRole('row', { name: /^wpGroup-bot\b/ }).getByRole('cell').allTextContents()).toEqual(['(none)', '1']);
    await popup.reject(agent, 'wiki.rights');
    await expect.poll(async () => (await eventsOf('rejected')).some((e) => e.agent === agent), { timeout: 15_000 }).toBe(true);
    await wiki.page.waitForTimeout(500);
    expect(await env.wiki.userGroups('Bob')).toEqual([]);

    // Again, and approved: it lands.
    await rights.open('Bob');
    await rights.group('bot').check();
    await rights.saveButton().click();
    await item.waitFor({ timeout: 15_000 });
    expect(await env.wiki.userGroups('Bob')).toEqual([]);
    const answer = submitAnswer(wiki.page);
    await popup.approve(agent, 'wiki.rights');
    await expectSaved(await answer);
    await expect.poll(() => env.wiki.userGroups('Bob'), { timeout: 15_000 }).toEqual(['bot']);
    await popup.page.close();
  });

  test('a reader sees the approved revision verified, its receipt found by the text\'s digest', async () => {
    expect(approvedRevision, 'the approved edit of the first test').toBeDefined();
    const reader = new WikiPage(await browser.context.newPage(), env.origin);
    await reader.open(RUNBOOK.title);
    expect(collapse((await reader.content().textContent()) ?? '')).toBe(collapse(RUNBOOK.after));
    await expect.poll(async () => (await badgesOnPage(reader.page)).map((b) => b.state), { timeout: 15_000 }).toEqual(['verified']);
    const host = await reader.content().locator('countersign-badge').boundingBox();
    await reader.page.mouse.click(host!.x + 10, host!.y + host!.height / 2);
    const [badge] = await badgesOnPage(reader.page);
    expect(badge!.detailsOpen).toBe(true);
    expect(badge!.details).toMatch(new RegExp(`Written by ${WIKI_AGENT}, approved by ${ALICE} at \\d{4}-`));
    expect(badge!.details).toContain('text unchanged since approval');
  });
});
