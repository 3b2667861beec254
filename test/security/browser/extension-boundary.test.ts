// The extension's boundary as hostile pages meet it in real Chromium (SECURITY-CASES §5): the content
// script's own world asking the background to approve, enroll, change settings or export the log, and
// sending malformed proposals, with the sender Chromium really stamps (E-01, E-04; the unit tests in
// test/lib/extension/router.test.ts forge senders); a web page probing the extension's resources (E-08)
// and framing or opening the popup over a held action (E-12); approval fields made of markup and
// bidirectional overrides shown as text (E-06). Node only (browser tests).
import type { CDPSession, Page } from 'playwright-core';
import { expect, test } from '../../helpers/browser/fixtures';
import { PopupPage } from '../../helpers/browser/pages/extension-pages';
import { extensionLog } from '../../helpers/browser/extension-log';
import { recordAttacks } from '../../helpers/tally';
import { forumAsAlice, heldRecords } from '../../helpers/browser/hostile-pages';

const ASSISTANT = 'agent:forum-helper';
const SCOPE = 'forum.post';

/** Runs an expression in the extension's isolated content-script world of a page, as a compromised content script would. */
async function inContentScriptWorld<T>(page: Page, expression: string): Promise<T> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  try {
    const contexts: Array<{ id: number; name: string; auxData?: { type?: string } }> = [];
    cdp.on('Runtime.executionContextCreated', (e: { context: { id: number; name: string; auxData?: { type?: string } } }) => contexts.push(e.context));
    await cdp.send('Runtime.enable');
    const world = contexts.find((c) => c.auxData?.type === 'isolated' && c.name === 'Countersign');
    if (!world) throw new Error(`no Countersign content-script world on ${page.url()}`);
    const { result, exceptionDetails } = (await cdp.send('Runtime.evaluate', { expression, contextId: world.id, awaitPromise: true, returnByValue: true })) as { result: { value: T }; exceptionDetails?: unknown };
    if (exceptionDetails) throw new Error(`evaluation failed: ${JSON.stringify(exceptionDetails)}`);
    return result.value;
  } finally {
    await cdp.detach();
  }
}

test('E-01/E-04 the content script\'s own world cannot approve, reject, enroll, change settings or read the log; its malformed proposals are refused, and one naming its own action, scope or agent gets the background\'s', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  await forum.askAssistant();
  const popup = await PopupPage.open(browser);
  await popup.action(ASSISTANT, SCOPE).waitFor({ timeout: 15_000 });
  const [record] = (await heldRecords(browser)).filter((r) => r.state === 'held');
  const proposal = { kind: 'fetch', request: { method: 'POST', url: `${stack.forumUrl}/api/topics/1/replies`, contentType: 'application/json', body: '{"body":"x"}' }, content: 'x', signals: ['assistant-marker'], agentHint: ASSISTANT, diff: { kind: 'text', before: null, after: 'x' } };

  const answers = await inContentScriptWorld<Record<string, { res?: { ok: boolean; code?: string }; err?: unknown }>>(
    forum.page,
    `(async () => {
      const send = (type, data) => new Promise((resolve) => chrome.runtime.sendMessage({ id: 1, type, data, timestamp: Date.now() }, (r) => resolve(chrome.runtime.lastError ? { err: chrome.runtime.lastError.message } : r)));
      const p = ${JSON.stringify(proposal)};
      const tries = {
        approve: ['ui-bg:approve', { actionId: ${JSON.stringify(record!.id)} }],
        reject: ['ui-bg:reject', { actionId: ${JSON.stringify(record!.id)} }],
        enroll: ['ui-bg:enroll', { verifierUrl: 'http://evil.example', code: 'abcd1234', label: 'evil' }],
        saveSettings: ['ui-bg:save-settings', { badgeMark: 'PWNED' }],
        exportLog: ['ui-bg:export-log', {}],
        getState: ['ui-bg:get-state', {}],
        syncNow: ['ui-bg:sync-now', {}],
        releaseToItself: ['bg-cs:release', { actionId: ${JSON.stringify(record!.id)}, tokens: ['x'] }],
        approveBatch: ['ui-bg:approve-batch', { items: [{ id: ${JSON.stringify(record!.id)}, digest: 'A'.repeat(43) }, { id: ${JSON.stringify(record!.id)}, digest: 'A'.repeat(43) }] }],
        botApprovals: ['ui-bg:bot-approvals', {}],
        proposeExtraMember: ['cs-bg:propose', { ...p, sign: true }],
        proposePrototypeKey: ['cs-bg:propose', JSON.parse('{"__proto__":{"admin":true},' + JSON.stringify(p).slice(1))],
        proposeOtherOrigin: ['cs-bg:propose', { ...p, request: { ...p.request, url: 'http://evil.example/api/topics/1/replies' } }],
        propose10MB: ['cs-bg:propose', { ...p, request: { ...p.request, body: JSON.stringify({ body: 'x'.repeat(10_000_000) }) }, content: 'x'.repeat(10_000_000), diff: null }],
        proposeBadSignal: ['cs-bg:propose', { ...p, signals: ['approved-by-owner'] }],
        proposeAgentUrl: ['cs-bg:propose', { ...p, agentHint: 'agent:x/../../admin', proposalId: 'impersonate-0001' }],
        proposeNamedAction: ['cs-bg:propose', { ...p, action: 0 }],
        proposeScope: ['cs-bg:propose', { ...p, scope: 'admin.acl.write' }],
        proposeNoAction: ['cs-bg:propose', { ...p, request: { ...p.request, url: p.request.url.replace('/api/topics/1/replies', '/api/admin/users') } }],
        proposeActionVariant: ['cs-bg:propose', { ...p, request: { ...p.request, url: p.request.url.replace('/api/topics/', '/API/topics/') } }],
        outcomeReleased: ['cs-bg:release-result', { actionId: ${JSON.stringify(record!.id)}, outcome: 'released', status: 201 }],
      };
      const out = {};
      for (const [name, [type, data]] of Object.entries(tries)) out[name] = await send(type, data);
      return out;
    })()`,
  );
  const refused = (name: string, code: string) => expect(answers[name]?.res, name).toMatchObject({ ok: false, code });
  for (const name of ['approve', 'reject', 'enroll', 'saveSettings', 'exportLog', 'getState', 'syncNow', 'approveBatch', 'botApprovals']) refused(name, 'sender_refused');
  // The page can no longer name the action or the scope: the background reads them from the request.
  for (const name of ['proposeExtraMember', 'proposePrototypeKey', 'propose10MB', 'proposeBadSignal', 'proposeOtherOrigin', 'proposeNamedAction', 'proposeScope']) refused(name, 'payload_invalid');
  for (const name of ['proposeNoAction', 'proposeActionVariant']) refused(name, 'action_unknown');
  // Impersonation: a hint naming an agent the policy does not know is not believed; the action is the adapter's agent's.
  expect(answers.proposeAgentUrl?.res).toMatchObject({ ok: true });
  const impersonation = (await heldRecords(browser)).find((r) => r.proposalId === 'impersonate-0001');
  expect(impersonation?.spec).toMatchObject({ agent: ASSISTANT, scope: SCOPE });
  // No handler for bg-cs messages in the background: nothing answers.
  expect(answers.releaseToItself?.res).toBeUndefined();
  // "Released" for an action nobody approved changes nothing (only an approved action can end released).
  expect(answers.outcomeReleased?.res).toMatchObject({ ok: true, value: { state: 'held' } });

  const after = (await heldRecords(browser)).find((r) => r.id === record!.id);
  expect(after).toMatchObject({ state: 'held', token: null });
  expect((await heldRecords(browser)).filter((r) => r.id !== record!.id && r.id !== impersonation?.id)).toHaveLength(0);
  const log = await extensionLog(browser);
  const approvedOrReleased = log.filter((e) => e.type === 'approved' || e.type === 'released').length;
  expect(approvedOrReleased).toBe(0);
  // The page's own world has no extension messaging at all (no externally_connectable).
  const pageWorld = await forum.page.evaluate(() => typeof (globalThis as { chrome?: { runtime?: { sendMessage?: unknown } } }).chrome?.runtime?.sendMessage);
  expect(pageWorld).toBe('undefined');
  // An accepted proposal held as the adapter's own agent is what the real hooks could propose anyway: not a success.
  const impersonated = impersonation?.spec.agent === 'agent:x/../../admin' ? 1 : 0;
  const accepted = Object.entries(answers).filter(([name, a]) => a.res?.ok && name !== 'outcomeReleased' && name !== 'proposeAgentUrl').length + impersonated;
  recordAttacks('E-01/E-04 privileged and malformed messages from the content-script world', Object.keys(answers).length + 1, accepted + approvedOrReleased);
});

test('E-08/E-12 a web page cannot load, fetch, frame or open the extension\'s pages and files, so it cannot overlay the popup over a held action', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  await forum.askAssistant();
  const popup = await PopupPage.open(browser);
  await popup.action(ASSISTANT, SCOPE).waitFor({ timeout: 15_000 });
  const base = `chrome-extension://${browser.extensionId}`;

  // From the protected forum page, and from a hostile page on an origin no policy names.
  const hostile = await browser.context.newPage();
  await hostile.route('http://hostile.example/**', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>hostile</title><h1>hostile</h1>' }));
  await hostile.goto('http://hostile.example/');
  const probe = (page: Page) =>
    page.evaluate(async (base) => {
      const files = ['manifest.json', 'popup.html', 'options.html', 'background.js', 'content-scripts/hooks.js', 'content-scripts/badges.js', 'icon/128.png', 'managed_schema.json'];
      const loads = (tag: 'img' | 'script' | 'link', url: string) =>
        new Promise<boolean>((resolve) => {
          const el = document.createElement(tag);
          el.addEventListener('load', () => resolve(true));
          el.addEventListener('error', () => resolve(false));
          if (el instanceof HTMLLinkElement) Object.assign(el, { rel: 'stylesheet', href: url });
          else (el as HTMLImageElement).src = url;
          document.head.append(el);
        });
      const results: Array<[string, boolean]> = [];
      for (const f of files) {
        results.push([`fetch ${f}`, await fetch(`${base}/${f}`).then(() => true, () => false)]);
        results.push([`xhr ${f}`, await new Promise<boolean>((resolve) => { const x = new XMLHttpRequest(); x.onload = () => resolve(true); x.onerror = () => resolve(false); try { x.open('GET', `${base}/${f}`); x.send(); } catch { resolve(false); } })]);
      }
      results.push(['img icon', await loads('img', `${base}/icon/128.png`)]);
      results.push(['script background.js', await loads('script', `${base}/background.js`)]);
      results.push(['link stylesheet', await loads('link', `${base}/assets/popup.css`)]);
      // Controls: the same probes do see what a page may load, so a "false" above is a refusal.
      const controls = [await fetch(location.href).then(() => true, () => false), await loads('img', 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7')];
      return { results, controls };
    }, base);
  const fromForum = await probe(forum.page);
  const fromHostile = await probe(hostile);
  expect([...fromForum.controls, ...fromHostile.controls]).toEqual([true, true, true, true]);
  const probes = [...fromForum.results, ...fromHostile.results];
  const loaded = probes.filter(([, ok]) => ok).map(([what]) => what);
  expect(loaded).toEqual([]);

  // Framing the popup and the options page (clickjacking the Approve button), and opening them.
  await hostile.evaluate((base) => {
    for (const path of ['popup.html', 'options.html']) {
      const frame = document.createElement('iframe');
      frame.src = `${base}/${path}`;
      frame.style.cssText = 'width:420px;height:520px;opacity:0.01';
      document.body.append(frame);
    }
  }, base);
  const opened = hostile.context().waitForEvent('page', { timeout: 10_000 }).catch(() => null);
  await hostile.evaluate((base) => void window.open(`${base}/popup.html`), base);
  const openedPage = await opened;
  await hostile.waitForLoadState('load');
  const framesShowingPopup: string[] = [];
  for (const frame of hostile.frames().slice(1)) {
    const heading = await frame.getByRole('heading', { name: /^Countersign/ }).count().catch(() => 0);
    const approve = await frame.getByRole('button', { name: 'Approve' }).count().catch(() => 0);
    if (heading || approve) framesShowingPopup.push(frame.url());
  }
  // Clicking where the framed Approve button would be.
  await hostile.mouse.click(60, 400);
  if (openedPage) await openedPage.waitForLoadState('load').catch(() => undefined);
  const openedShows = openedPage ? await openedPage.getByRole('button', { name: 'Approve' }).count().catch(() => 0) : 0;
  expect(hostile.frames()).toHaveLength(3);
  expect(framesShowingPopup).toEqual([]);
  expect(openedShows).toBe(0);
  // Control: the same look-ups find the popup where it is allowed to be, in the owner's own tab.
  expect(await popup.page.getByRole('heading', { name: /^Countersign/ }).count()).toBeGreaterThan(0);
  expect(await popup.page.getByRole('button', { name: 'Approve' }).count()).toBe(1);
  // Chromium answers each with its error page (measured: chrome-error://chromewebdata/).
  for (const url of [...hostile.frames().slice(1).map((f) => f.url()), openedPage?.url() ?? 'chrome-error://not-opened']) expect(url).toMatch(/^chrome-error:/);
  expect((await heldRecords(browser)).filter((r) => r.state !== 'held')).toHaveLength(0);
  recordAttacks('E-08/E-12 probing, framing and opening extension pages', probes.length + 3, loaded.length + framesShowingPopup.length + openedShows);
});

test('E-06 markup, javascript: links, bidi overrides and a very long line in an assistant\'s post are shown as text in the popup; nothing in them runs', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  const hostileText = [
    '<img src=x onerror="document.title=\'pwned\'">',
    '<script>document.title=\'pwned\'</script>',
    '<a href="javascript:document.title=\'pwned\'">read docs</a>',
    'Pay to account \u202E0987654321\u202C now',
    'x'.repeat(3000),
  ].join('\n');
  await forum.page.evaluate((text) => {
    void fetch('/api/topics/1/replies', { method: 'POST', headers: { 'content-type': 'application/json', 'X-Assistant': 'agent:forum-helper' }, body: JSON.stringify({ body: text, author_kind: 'assistant' }) });
  }, hostileText);
  const popup = await PopupPage.open(browser);
  const item = popup.action(ASSISTANT, SCOPE);
  await item.waitFor({ timeout: 15_000 });
  const shown = (await item.getByLabel('Post text').textContent()) ?? '';
  expect(shown).toContain('<img src=x onerror=');
  expect(shown).toContain('<script>');
  expect(shown).toContain('<a href="javascript:');
  // The right-to-left override is made visible instead of reversing the account number.
  expect(shown).toContain('⟨U+202E⟩0987654321⟨U+202C⟩');
  expect(shown).not.toContain('\u202E');
  const elements = await item.evaluate((el) => ({
    img: el.querySelectorAll('img').length,
    script: el.querySelectorAll('script').length,
    links: el.querySelectorAll('a[href^="javascript:"]').length,
    title: document.title,
  }));
  expect(elements).toEqual({ img: 0, script: 0, links: 0, title: await popup.page.title() });
  expect(elements.title).not.toBe('pwned');
  // The long line stays inside the popup (no horizontal overflow that could hide the decision buttons).
  const overflow = await popup.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await popup.reject(ASSISTANT, SCOPE);
  const executed = elements.img + elements.script + elements.links + (elements.title === 'pwned' ? 1 : 0);
  recordAttacks('E-06 markup and bidi overrides in approval fields', 4, executed);
});
