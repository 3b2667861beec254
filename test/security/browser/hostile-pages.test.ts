// Hostile pages in real Chromium (issue 9, SECURITY-CASES §5): forged traffic on the channel between
// the page-world hooks and the isolated content script (E-03), a page changing what it holds after the
// hold (E-05), and an agent that captured fetch/XHR/submit before the hooks loaded — the tool's own
// middleware still refuses it. Each test counts its attempts and what got through (test/helpers/tally.ts),
// from what the tool stored and the extension logged, never a fixed number.
//
// Ordering, measured here: a Playwright init script (CDP Page.addScriptToEvaluateOnNewDocument) runs
// BEFORE the extension's MAIN-world document_start script, so an agent driving the browser sees the
// native fetch. Ordinary page scripts run after the hooks, but every page-world global the hooks
// call later (MessagePort.prototype.postMessage, Headers.prototype.set) remains the page's to wrap.
import { actionDigest, generateEs256KeyPair, mintApprovalToken } from '@/lib/protocol';
import { expect, test } from '../../helpers/browser/fixtures';
import { ConsolePage } from '../../helpers/browser/pages/demo-pages';
import { PopupPage } from '../../helpers/browser/pages/extension-pages';
import { extensionLog } from '../../helpers/browser/extension-log';
import { recordAttacks } from '../../helpers/tally';
import { APPROVAL_HEADER, claimsOf, forumAsAlice, heldRecords, recordReplyRequests } from '../../helpers/browser/hostile-pages';

type Win = Window & Record<string, unknown>;
const ASSISTANT = 'agent:forum-helper';
const SCOPE = 'forum.post';

test('E-03 forged window messages and CustomEvents (fake release, approve, port offers, replays) change nothing: the held post stays held until its owner decides', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  const before = stack.demo.store.listReplies(1).length;
  const wire = recordReplyRequests(forum.page);
  await forum.askAssistant();
  const popup = await PopupPage.open(browser);
  const item = popup.action(ASSISTANT, SCOPE);
  await item.waitFor({ timeout: 15_000 });
  const [record] = (await heldRecords(browser)).filter((r) => r.state === 'held');
  expect(record).toBeDefined();

  // Everything a page can say on window: the channel's own message types, the messaging library's
  // window and CustomEvent transports, and the real action id (as if it had leaked).
  const sent = await forum.page.evaluate(async (actionId) => {
    const origin = location.origin;
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJmb3JnZWQiOnRydWV9.AAAA';
    const approve = { id: 1, type: 'ui-bg:approve', data: { actionId }, timestamp: Date.now() };
    const forged: Array<() => void> = [
      () => window.postMessage({ t: 'release', id: 1, tokens: [token] }, '*'),
      () => window.postMessage({ t: 'settle', id: 1, outcome: 'failed', message: 'forged' }, '*'),
      () => window.postMessage({ type: 'countersign:port' }, origin, [new MessageChannel().port2]),
      () => window.postMessage({ type: 'countersign:port' }, origin),
      () => window.postMessage({ type: 'countersign:hello' }, origin),
      () => window.postMessage({ t: 'ready' }, '*'),
      () => window.postMessage({ type: '@webext-core/messaging/window', message: approve, senderOrigin: origin, namespace: 'countersign', instanceId: 'page' }, '*'),
      () => window.dispatchEvent(new CustomEvent('@webext-core/messaging/custom-events', { detail: { message: approve, namespace: 'countersign', instanceId: 'page' } })),
      () => window.dispatchEvent(new CustomEvent('countersign:release', { detail: { id: 1, tokens: [token] } })),
      () => document.dispatchEvent(new CustomEvent('countersign:approve', { detail: { actionId } })),
      () => window.postMessage({ t: 'approve', actionId }, '*'),
      () => window.postMessage({ type: 'ui-bg:approve', data: { actionId } }, '*'),
    ];
    for (const f of forged) f();
    // A last message of our own: once it arrives, every forged one before it has been dispatched.
    await new Promise<void>((resolve) => {
      const done = (e: MessageEvent) => e.data === 'page:barrier' && (window.removeEventListener('message', done), resolve());
      window.addEventListener('message', done);
      window.postMessage('page:barrier', '*');
    });
    return forged.length;
  }, record!.id);

  // Still held, unsigned; nothing left the page with a token.
  const after = (await heldRecords(browser)).find((r) => r.id === record!.id);
  expect(after).toMatchObject({ state: 'held', token: null });
  // The popup renders held items before it has read enrollment and the kill switch ('loading'), so
  // the button is asked until that settles: what must hold is that nothing forged turned it off.
  await expect.poll(() => item.getByRole('button', { name: 'Approve' }).isEnabled(), { timeout: 15_000 }).toBe(true);

  // The owner's decision is the only one that counts: rejected, and the page is told so.
  await popup.reject(ASSISTANT, SCOPE, 'not this');
  await expect.poll(() => forum.page.locator('[data-assistant-status]').textContent(), { timeout: 15_000 }).toContain('rejected');
  const types = (await extensionLog(browser)).filter((e) => e.trc === record!.spec.trc).map((e) => e.type);
  expect(types).toEqual(['proposed', 'held', 'rejected']);
  const unauthorized = (stack.demo.store.listReplies(1).length - before) + wire.filter((r) => r.headers()[APPROVAL_HEADER]).length + types.filter((t) => t === 'approved').length;
  recordAttacks('E-03 forged window messages / CustomEvents', sent, unauthorized);
  expect(unauthorized).toBe(0);
});

test('E-03 a page that captures the channel port: a forged "released" outcome, a replayed "ready" and a release with a token it signed itself get nothing accepted', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  const before = stack.demo.store.listReplies(1).length;
  // A page script wraps MessagePort.prototype.postMessage: the hooks' next message hands it the port.
  await forum.page.evaluate(() => {
    const w = window as unknown as Win;
    const post = MessagePort.prototype.postMessage;
    w.__seen = [];
    MessagePort.prototype.postMessage = function (this: MessagePort, msg: unknown, ...rest: unknown[]) {
      w.__port ??= this;
      (w.__seen as unknown[]).push(msg);
      return (post as (...a: unknown[]) => void).call(this, msg, ...rest);
    } as typeof post;
  });
  await forum.askAssistant();
  const popup = await PopupPage.open(browser);
  await popup.action(ASSISTANT, SCOPE).waitFor({ timeout: 15_000 });
  const [record] = (await heldRecords(browser)).filter((r) => r.state === 'held');
  const proposal = (await forum.page.evaluate(() => ((window as unknown as Win).__seen as Array<{ t: string; id: number }>).find((m) => m.t === 'propose')))!;
  expect(proposal).toBeDefined();

  // A token for exactly the held request, signed by a key the page made and enrolled nowhere.
  const pair = await generateEs256KeyPair();
  const { token } = await mintApprovalToken({ privateKey: pair.privateKey, kid: 'page-made-key', deviceId: 'page-device', userId: 'alice', request: record!.spec.request, agent: ASSISTANT, scope: SCOPE, traceId: record!.spec.trc });
  const wire = recordReplyRequests(forum.page);
  const attempts = await forum.page.evaluate(
    ({ id, token }) => {
      const port = (window as unknown as Win).__port as MessagePort;
      // To the isolated script: "it was released" (it was not), and the handshake again.
      port.postMessage({ t: 'outcome', id, outcome: 'released', status: 201 });
      port.postMessage({ t: 'ready' });
      // To the hooks, as if from the isolated script: release with the page's own token.
      (port.onmessage as (e: { data: unknown }) => void)({ data: { t: 'release', id, tokens: [token] } });
      return 3;
    },
    { id: proposal.id, token },
  );
  // The hooks sent it: the tool refuses the page's token, and stores nothing.
  await expect.poll(() => forum.page.locator('[data-assistant-status]').textContent(), { timeout: 15_000 }).toMatch(/Refused: key_unknown/);
  expect(wire.filter((r) => r.headers()[APPROVAL_HEADER] === token)).toHaveLength(1);
  // The background was not fooled by the forged outcome: the action is still held, unsigned.
  expect((await heldRecords(browser)).find((r) => r.id === record!.id)).toMatchObject({ state: 'held', token: null });
  const types = (await extensionLog(browser)).filter((e) => e.trc === record!.spec.trc).map((e) => e.type);
  expect(types).not.toContain('released');
  expect(types).not.toContain('approved');
  const unauthorized = stack.demo.store.listReplies(1).length - before + types.filter((t) => t === 'released' || t === 'approved').length;
  recordAttacks('E-03 captured port: forged outcome, replayed ready, self-signed release', attempts, unauthorized);
  expect(unauthorized).toBe(0);
});

test('E-03 a replayed proposal on the captured port: two records, and approving both still sends the held post once', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  const before = stack.demo.store.listReplies(1).length;
  await forum.page.evaluate(() => {
    const w = window as unknown as Win;
    const post = MessagePort.prototype.postMessage;
    MessagePort.prototype.postMessage = function (this: MessagePort, msg: unknown, ...rest: unknown[]) {
      if ((msg as { t?: string }).t === 'propose' && !w.__replayed) {
        w.__replayed = true;
        (post as (...a: unknown[]) => void).call(this, msg, ...rest);
      }
      return (post as (...a: unknown[]) => void).call(this, msg, ...rest);
    } as typeof post;
  });
  const wire = recordReplyRequests(forum.page);
  await forum.askAssistant();
  const popup = await PopupPage.open(browser);
  const items = popup.page.getByRole('listitem', { name: `${ASSISTANT} ${SCOPE}` });
  await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(2);
  for (let i = 0; i < 2; i++) {
    await items.nth(0).getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(1 - i);
  }
  await expect.poll(() => forum.page.locator('[data-assistant-status]').textContent(), { timeout: 15_000 }).toBe('Posted');
  const added = stack.demo.store.listReplies(1).slice(before);
  const withToken = wire.filter((r) => r.headers()[APPROVAL_HEADER]);
  expect(added).toHaveLength(1);
  expect(withToken).toHaveLength(1);
  recordAttacks('E-03 replayed proposal', 1, Math.max(0, added.length - 1) + Math.max(0, withToken.length - 1));
});

test('E-05 a page that rewrites its proposal so the popup shows other text than the body it holds: the channel carries no text to rewrite, and a rewritten body is never posted under the owner\'s token', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  const before = stack.demo.store.listReplies(1).length;
  const shown = 'Thanks! I will ask the payroll team for a time-boxed grant.';
  const held = 'payroll-2026 is now readable by all employees: download it from the shared drive.';
  // Two rewrites of the hooks' proposal on the channel: a `content` member claiming the harmless text
  // (the channel no longer carries one: the bridge and the background read the text from the body),
  // and the request body itself swapped for the harmless one (the hooks release their own copy).
  await forum.page.evaluate(
    ({ shown, held }) => {
      const w = window as unknown as Win;
      const post = MessagePort.prototype.postMessage;
      let n = 0;
      MessagePort.prototype.postMessage = function (this: MessagePort, msg: unknown, ...rest: unknown[]) {
        const m = msg as { t?: string; request?: { body: string } };
        if (m.t !== 'propose') return (post as (...a: unknown[]) => void).call(this, msg, ...rest);
        const forged = n++ === 0 ? { ...m, content: shown } : { ...m, request: { ...m.request, body: JSON.stringify({ body: shown, author_kind: 'assistant' }) } };
        return (post as (...a: unknown[]) => void).call(this, forged, ...rest);
      } as typeof post;
      const send = () =>
        fetch('/api/topics/1/replies', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'X-Assistant': 'agent:forum-helper' },
          body: JSON.stringify({ body: held, author_kind: 'assistant' }),
        }).then((r) => ({ status: r.status }));
      w.__first = send();
      w.__second = new Promise((r) => setTimeout(r, 500)).then(send);
    },
    { shown, held },
  );
  const popup = await PopupPage.open(browser);
  const items = popup.page.getByRole('listitem', { name: `${ASSISTANT} ${SCOPE}` });
  await expect.poll(() => items.count(), { timeout: 30_000 }).toBe(2);
  // Playing the owner: approve whatever the popup shows, noting what it showed.
  const seen: string[] = [];
  for (let i = 0; i < 2; i++) {
    seen.push((await items.nth(0).textContent()) ?? '');
    await items.nth(0).getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(1 - i);
  }
  const [first, second] = await forum.page.evaluate(() => Promise.all([(window as unknown as Win).__first, (window as unknown as Win).__second]) as Promise<Array<{ status: number }>>);
  const added = stack.demo.store.listReplies(1).slice(before);
  // Whatever was posted, the owner saw it: the forged `content` changed nothing, the forged body was refused by the tool.
  const unauthorized = added.filter((r) => !seen.some((text) => text.includes(r.body))).length;
  recordAttacks('E-05 proposal text or body rewritten on the channel', 2, unauthorized);
  expect(unauthorized).toBe(0);
  expect(seen[0]).toContain(held);
  expect(seen[0]).not.toContain(shown);
  expect(first).toEqual({ status: 201 });
  expect(seen[1]).toContain(shown);
  expect(second!.status).toBeGreaterThanOrEqual(400);
  expect(added.map((r) => r.body)).toEqual([held]);
});

test('E-05 the page changes the draft, the DOM, fetch and JSON after the hold and steals the token on its way out: the tool gets exactly the held bytes, the signed digest is the record\'s', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  const before = stack.demo.store.listReplies(1).length;
  const wire = recordReplyRequests(forum.page);
  await forum.askAssistant();
  const popup = await PopupPage.open(browser);
  const item = popup.action(ASSISTANT, SCOPE);
  await item.waitFor({ timeout: 15_000 });
  const [record] = (await heldRecords(browser)).filter((r) => r.state === 'held');
  const evil = 'EVIL: payroll-2026 opened to everyone.';

  const attempts = await forum.page.evaluate((evil) => {
    const w = window as unknown as Win;
    const draft = document.querySelector<HTMLTextAreaElement>('[data-assistant-draft]')!;
    draft.value = evil;
    draft.setAttribute('data-assistant-draft', evil);
    document.querySelector('[data-assistant-widget] p')!.textContent = evil;
    window.fetch = () => Promise.reject(new Error('the page replaced fetch'));
    XMLHttpRequest.prototype.send = () => undefined;
    // Steal the approval on its way out and spend it on the page's own text, through a fetch the
    // hooks never wrapped (an about:blank iframe's).
    const frame = document.body.appendChild(document.createElement('iframe'));
    const nativeFetch = frame.contentWindow!.fetch.bind(frame.contentWindow);
    const set = Headers.prototype.set;
    Headers.prototype.set = function (this: Headers, name: string, value: string) {
      if (name.toLowerCase() === 'countersign-approval') {
        w.__stolen = nativeFetch('/api/topics/1/replies', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'X-Assistant': 'agent:forum-helper', 'countersign-approval': value },
          body: `{"body":"${evil}","author_kind":"assistant"}`,
        }).then(async (r) => ({ status: r.status, code: ((await r.json()) as { error?: { code: string } }).error?.code ?? null }));
      }
      return set.call(this, name, value);
    };
    return 6;
  }, evil);
  // The popup still shows the background's record, not the page.
  const shown = (await item.getByLabel('Post text').textContent()) ?? '';
  expect(shown).toBe((record!.spec.diff as { after: string }).after);
  expect(shown).not.toContain('EVIL');
  await popup.approve(ASSISTANT, SCOPE);
  await expect.poll(() => forum.page.locator('[data-assistant-status]').textContent(), { timeout: 15_000 }).toBe('Posted');
  const stolen = await forum.page.evaluate(() => (window as unknown as Win).__stolen as Promise<{ status: number; code: string | null }>);

  // What reached the tool under the owner's token is the held record, byte for byte.
  const released = wire.filter((r) => r.headers()[APPROVAL_HEADER] && r.postData() === record!.spec.request.body);
  expect(released).toHaveLength(1);
  const request = released[0]!;
  const claims = claimsOf(request.headers()[APPROVAL_HEADER]!);
  const received = { method: request.method(), url: request.url(), contentType: request.headers()['content-type'] ?? null, body: request.postData() };
  expect(claims.act.dig).toBe(await actionDigest(received));
  expect(claims.act.dig).toBe(record!.digest);
  // The stolen token spent on the page's own text: refused for not being the approved action.
  expect(stolen).toEqual({ status: 403, code: 'action_mismatch' });
  const added = stack.demo.store.listReplies(1).slice(before);
  expect(added.map((r) => r.body)).toEqual([shown]);
  const unauthorized = added.filter((r) => r.body !== shown).length;
  recordAttacks('E-05 page mutations after the hold and a stolen token', attempts, unauthorized);
  expect(unauthorized).toBe(0);
});

test('hooks bypassed: fetch, XHR and form submit captured before the extension loaded (or borrowed from an iframe) — the tool\'s middleware refuses every assistant request without an approval', async ({ browser, stack }) => {
  const page = await browser.context.newPage();
  // An agent driving the browser injects this before any extension script runs on the page.
  await page.addInitScript(() => {
    const w = window as unknown as Win;
    w.__native = {
      fetch: window.fetch,
      open: XMLHttpRequest.prototype.open,
      send: XMLHttpRequest.prototype.send,
      setRequestHeader: XMLHttpRequest.prototype.setRequestHeader,
      submit: HTMLFormElement.prototype.submit,
      sawNative: String(window.fetch).includes('[native code]'),
    };
  });
  await forumAsAlice(browser, stack, page);
  const before = stack.demo.store.listReplies(1).length;
  const results = await page.evaluate(async () => {
    type Native = { fetch: typeof fetch; open: XMLHttpRequest['open']; send: XMLHttpRequest['send']; setRequestHeader: XMLHttpRequest['setRequestHeader']; sawNative: boolean };
    const n = (window as unknown as Win).__native as Native;
    const url = '/api/topics/1/replies';
    const json = (body: string, extra: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...extra }, body });
    const code = async (r: Response) => ({ status: r.status, code: (((await r.json().catch(() => null)) as { error?: { code: string } } | null)?.error?.code ?? null) });
    const frame = document.body.appendChild(document.createElement('iframe'));
    const out = [
      await code(await n.fetch.call(window, url, json('{"body":"captured fetch, marker header"}', { 'X-Assistant': 'agent:forum-helper' }))),
      await code(await n.fetch.call(window, url, json('{"body":"captured fetch, marker field","author_kind":"assistant"}'))),
      await code(await n.fetch.call(window, url, json('{"body":"captured fetch, as the agent itself"}', { 'x-agent-key': 'forum-helper-key' }))),
      await code(await frame.contentWindow!.fetch(url, json('{"body":"iframe fetch, marker header"}', { 'X-Assistant': 'agent:forum-helper' }))),
      await new Promise<{ status: number; code: string | null }>((resolve) => {
        const xhr = new XMLHttpRequest();
        (n.open as (method: string, url: string) => void).call(xhr, 'POST', url);
        n.setRequestHeader.call(xhr, 'content-type', 'application/json');
        n.setRequestHeader.call(xhr, 'X-Assistant', 'agent:forum-helper');
        xhr.onloadend = () => resolve({ status: xhr.status, code: (JSON.parse(xhr.responseText || 'null') as { error?: { code: string } } | null)?.error?.code ?? null });
        n.send.call(xhr, '{"body":"captured XHR"}');
      }),
    ];
    return { hooked: !String(window.fetch).includes('[native code]'), sawNative: n.sawNative, out };
  });
  // The capture really bypassed the hooks: the init script ran first and the hooks wrapped fetch later.
  expect(results.sawNative).toBe(true);
  expect(results.hooked).toBe(true);
  // Captured native submit() of the reply form, with the assistant's marker field.
  const submitted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/topics/1/replies'));
  await page.evaluate(() => {
    const form = document.querySelector<HTMLFormElement>('form.reply')!;
    form.querySelector('textarea')!.value = 'captured submit()';
    const marker = Object.assign(document.createElement('input'), { type: 'hidden', name: 'author_kind', value: 'assistant' });
    form.append(marker);
    ((window as unknown as Win).__native as { submit: HTMLFormElement['submit'] }).submit.call(form);
  });
  const form = await submitted;

  // The Access console's ACL route needs an approval from everybody: a captured fetch in alice's
  // own session, with no assistant marker at all, is refused too.
  const consolePage = await browser.context.newPage();
  await consolePage.addInitScript(() => {
    (window as unknown as Win).__nativeFetch = window.fetch;
  });
  const accessConsole = new ConsolePage(consolePage, stack.consoleUrl);
  await accessConsole.signIn('alice');
  await accessConsole.openDataset('payroll-2026');
  const acl = await consolePage.evaluate(async () => {
    const f = (window as unknown as Win).__nativeFetch as typeof fetch;
    const r = await f.call(window, '/api/datasets/payroll-2026/access', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ visibility: 'all-employees', groups: [] }) });
    return { status: r.status, code: ((await r.json()) as { error?: { code: string } }).error?.code ?? null };
  });

  const statuses = [...results.out, { status: form.status(), code: null }, acl];
  for (const r of results.out) expect(r).toEqual({ status: 401, code: 'token_missing' });
  expect(form.status()).toBe(401);
  expect(acl).toEqual({ status: 401, code: 'token_missing' });
  const added = stack.demo.store.listReplies(1).length - before;
  const widened = stack.demo.store.datasetAccess('payroll-2026')?.visibility === 'all-employees' ? 1 : 0;
  expect(added).toBe(0);
  expect(widened).toBe(0);
  recordAttacks('hooks bypassed: captured fetch/XHR/submit, iframe fetch', statuses.length, added + widened + statuses.filter((s) => s.status < 400).length);
});

test('E-03 a spoofed assistant marker: a page naming an agent the policy does not know (one not allowed to post here, one registered nowhere) is not believed: the post is held as the site\'s own agent, so no approval is ever signed in the spoofed name', async ({ browser, stack }) => {
  const forum = await forumAsAlice(browser, stack);
  const before = stack.demo.store.listReplies(1).length;
  const popup = await PopupPage.open(browser);
  const outcomes: Array<{ status: number }> = [];
  const spoofed = ['agent:access-helper', 'agent:nobody', 'access-helper'];
  // agent:access-helper is alice's too, but not for forum.post here; the others are registered nowhere.
  for (const agent of spoofed) {
    await forum.page.evaluate((agent) => {
      (window as unknown as Win).__result = fetch('/api/topics/1/replies', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Assistant': agent },
        body: JSON.stringify({ body: `A post that claims to be ${agent}'s.`, author_kind: 'assistant' }),
      }).then((r) => ({ status: r.status }));
    }, agent);
    // The owner sees the agent the policy names for this site (the adapter's), not the page's claim, and approves.
    await popup.action(ASSISTANT, SCOPE).waitFor({ timeout: 15_000 });
    await popup.approve(ASSISTANT, SCOPE);
    outcomes.push(await forum.page.evaluate(() => (window as unknown as Win).__result as Promise<{ status: number }>));
  }
  const records = await heldRecords(browser);
  const impersonated = records.filter((r) => spoofed.includes(r.spec.agent));
  const tokensInSpoofedName = records.filter((r) => r.token && spoofed.includes(claimsOf(r.token).agt));
  expect(records.map((r) => r.spec.agent)).toEqual(spoofed.map(() => ASSISTANT));
  // Whatever the tool did with it, only a post the owner approved as the site's agent can have been stored.
  const added = stack.demo.store.listReplies(1).slice(before);
  expect(added.length).toBe(outcomes.filter((o) => o.status < 400).length);
  recordAttacks('E-03 spoofed assistant marker', spoofed.length, impersonated.length + tokensInSpoofedName.length);
  expect(impersonated).toHaveLength(0);
  expect(tokensInSpoofedName).toHaveLength(0);
});
