// Site adapters from admin policy only, in real Chromium (issue 13, §6): the extension ships none, so
// a tool is protected exactly as policy says — a forum protected only through an admin's own adapter
// with a port pattern holds an assistant post and releases it on approval, and only on that port; a
// pattern the extension cannot parse is a policy problem in the options page and its site fails closed
// (held, never released); a policy that names no site protects nothing.
import { demoSitePolicy } from '../../demo/adapters';
import { enrollAs, expect, test } from '../helpers/browser/fixtures';
import { ForumPage } from '../helpers/browser/pages/demo-pages';
import { OptionsPage, PopupPage } from '../helpers/browser/pages/extension-pages';
import type { ExtensionBrowser } from '../helpers/browser/browser';
import type { Stack } from '../helpers/browser/stack';

const AGENT = 'agent:forum-helper';

async function registeredMatches(browser: ExtensionBrowser): Promise<Record<string, string[]>> {
  const scripts = await browser.serviceWorker.evaluate(() => chrome.scripting.getRegisteredContentScripts());
  return Object.fromEntries(scripts.map((s) => [s.id, s.matches ?? []]));
}

/** True when the page's window.fetch is the hooks' (a protected page), false when it is the browser's own. */
async function hooked(browser: ExtensionBrowser, url: string): Promise<boolean> {
  const page = await browser.context.newPage();
  try {
    await page.goto(url);
    return await page.evaluate(() => !Function.prototype.toString.call(window.fetch).includes('[native code]'));
  } finally {
    await page.close();
  }
}

async function onTopic(browser: ExtensionBrowser, stack: Stack): Promise<ForumPage> {
  await enrollAs(browser, stack);
  const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  return forum;
}

test.describe('a forum protected only through an admin\'s adapter with a port pattern', () => {
  // Not the demo's adapter: one an admin wrote for a tool the extension was never built for.
  test.override('policy', ({ stack }) => ({
    protectedSites: [`${stack.forumUrl}/*`],
    adapters: JSON.stringify([
      {
        id: 'corp-forum',
        match: [`${stack.forumUrl}/*`],
        agent: AGENT,
        actions: [{ scope: 'forum.post', request: { method: 'POST', url: '/api/topics/*/replies' }, content: '/body' }],
        assistant: { headers: ['X-Assistant'] },
      },
    ]),
  }));

  test('holds an assistant post, shows it for review, and releases it on approval', async ({ browser, stack }) => {
    // Registered as written, port included: before, the port pattern protected nothing.
    expect(await registeredMatches(browser)).toMatchObject({ 'countersign-hooks': [`${stack.forumUrl}/*`], 'countersign-hold': [`${stack.forumUrl}/*`] });
    const forum = await onTopic(browser, stack);
    const before = stack.demo.store.listReplies(1).length;
    await forum.askAssistant();
    const popup = await PopupPage.open(browser);
    const item = popup.action(AGENT, 'forum.post');
    await item.waitFor({ timeout: 15_000 });
    // Nothing reached the tool while held.
    expect(stack.demo.store.listReplies(1)).toHaveLength(before);
    expect(await item.getByLabel('Post text').textContent()).toContain('payroll-2026 is team-only');
    await popup.approve(AGENT, 'forum.post');
    await expect.poll(() => forum.page.locator('[data-assistant-status]').textContent(), { timeout: 15_000 }).toBe('Posted');
    expect(stack.demo.store.listReplies(1).at(-1)).toMatchObject({ body: expect.stringContaining('payroll-2026 is team-only'), receipt: expect.stringMatching(/^ey/) });
  });

  test('protects that port only: the verifier on another port of the same host gets no hooks', async ({ browser, stack }) => {
    expect(await hooked(browser, `${stack.forumUrl}/login`)).toBe(true);
    expect(await hooked(browser, `${stack.verifierUrl}/v1/status`)).toBe(false);
    // The console is not named by this policy at all.
    expect(await hooked(browser, `${stack.consoleUrl}/login`)).toBe(false);
  });

  test('the options page shows the admin\'s adapter with its source and match', async ({ browser, stack }) => {
    const options = await OptionsPage.open(browser);
    await expect.poll(() => options.policyValue('adapters').textContent()).toBe(`corp-forum (managed: ${stack.forumUrl}/*)`);
    await expect.poll(() => options.policyProblems().count()).toBe(0);
  });
});

test.describe('a pattern the extension cannot parse', () => {
  test.override('policy', ({ stack }) => ({
    // The forum named with a port Chrome cannot have; the console fine; and an adapter with a bad match.
    protectedSites: ['http://127.0.0.1:99999/*', `${stack.consoleUrl}/*`],
    adapters: JSON.stringify([...(JSON.parse(demoAdaptersOf(stack)) as unknown[]), { id: 'wiki', match: ['http://wiki.corp.example:70000/*'], actions: [] }]),
  }));

  test('is a policy problem in the options page, naming the pattern and why', async ({ browser }) => {
    const options = await OptionsPage.open(browser);
    const problems = options.policyProblems();
    await problems.waitFor({ timeout: 15_000 });
    const text = (await problems.textContent()) ?? '';
    expect(text).toContain('protectedSites.0');
    expect(text).toContain('"http://127.0.0.1:99999/*"');
    expect(text).toContain('port 99999 is out of range');
    expect(text).toContain('fails closed on *://127.0.0.1/*');
    expect(text).toMatch(/adapters\[2\]\.match\.0 \(adapter wiki\).*"http:\/\/wiki\.corp\.example:70000\/\*".*port 70000/);
  });

  test('its site fails closed: the assistant\'s post is held, and approving it is refused; nothing is posted', async ({ browser, stack }) => {
    const forum = await onTopic(browser, stack);
    const before = stack.demo.store.listReplies(1).length;
    await forum.askAssistant();
    const popup = await PopupPage.open(browser);
    const item = popup.action(AGENT, 'forum.post');
    await item.waitFor({ timeout: 15_000 });
    await popup.approve(AGENT, 'forum.post');
    await expect.poll(() => item.getByRole('alert').textContent(), { timeout: 15_000 }).toMatch(/policy for this site is invalid/);
    expect(await forum.page.locator('[data-assistant-status]').textContent()).not.toBe('Posted');
    expect(stack.demo.store.listReplies(1)).toHaveLength(before);
    const log = await browser.serviceWorker.evaluate(
      () =>
        new Promise<string[]>((resolve, reject) => {
          const open = indexedDB.open('countersign');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const read = open.result.transaction('log').objectStore('log').getAll();
            read.onsuccess = () => resolve((read.result as Array<{ type: string }>).map((e) => e.type));
          };
        }),
    );
    expect(log).not.toContain('approved');
    expect(log).not.toContain('released');
  });
});

test.describe('a policy that names no site', () => {
  test.override({ policy: { protectedSites: [], adapters: '[]' }, awaitProtection: false });

  test('protects nothing: a fresh install has no adapters of its own; the tool still refuses the assistant', async ({ browser, stack }) => {
    await expect.poll(() => registeredMatches(browser), { timeout: 5_000 }).toEqual({});
    const options = await OptionsPage.open(browser);
    await expect.poll(() => options.policyValue('adapters').textContent()).toBe('(none)');
    const forum = await onTopic(browser, stack);
    expect(await forum.page.evaluate(() => Function.prototype.toString.call(window.fetch).includes('[native code]'))).toBe(true);
    const before = stack.demo.store.listReplies(1).length;
    await forum.askAssistant();
    // Not held by anything: the tool's middleware is what refuses the marked request.
    await expect.poll(() => forum.page.locator('[data-assistant-status]').textContent(), { timeout: 15_000 }).toMatch(/^Refused/);
    expect(stack.demo.store.listReplies(1)).toHaveLength(before);
  });
});

/** The demo adapters' JSON for this stack, as demoPolicy pushes them. */
function demoAdaptersOf(stack: Stack): string {
  return demoSitePolicy({ forum: stack.forumUrl, console: stack.consoleUrl }).adapters;
}
