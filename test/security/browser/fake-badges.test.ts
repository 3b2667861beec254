// Fake provenance badges in real Chromium (issue 9): a page draws its own "AI · approved" badges; a reader
// tells them apart because only genuine badges carry the per-install secret mark from the options
// page; and the page tries every way it has to read or copy that mark out of the closed shadow root —
// properties, text, selection, find(), cloning, hooking attachShadow, and defining the badge's element
// name itself to reach its shadow root through ElementInternals. Node only (browser tests).
import type { Page } from 'playwright-core';
import { exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, newTraceId } from '@/lib/protocol';
import { expect, test } from '../../helpers/browser/fixtures';
import { ForumPage } from '../../helpers/browser/pages/demo-pages';
import { OptionsPage } from '../../helpers/browser/pages/extension-pages';
import type { ExtensionBrowser } from '../../helpers/browser/browser';
import { badgesOnPage } from '../../helpers/browser/shadow';
import type { Stack } from '../../helpers/browser/stack';
import { recordAttacks } from '../../helpers/tally';

const MARK = 'ZQ7🦉';
type Win = Window & Record<string, unknown>;

/** An assistant post approved for real: a device enrolled for alice signs, the forum's middleware verifies. */
async function approvedAssistantPost(stack: Stack, body: string): Promise<number> {
  const { code } = (await (await stack.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json()) as { code: string };
  const pair = await generateEs256KeyPair();
  const enrolled = await fetch(`${stack.verifierUrl}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, publicKeyJwk: await exportEs256PublicJwk(pair.publicKey), label: 'fake-badge test' }) });
  const { kid, deviceId } = (await enrolled.json()) as { kid: string; deviceId: string };
  const payload = JSON.stringify({ body, author_kind: 'assistant' });
  const request = { method: 'POST', url: `${stack.forumUrl}/api/topics/1/replies`, contentType: 'application/json', body: payload };
  await new Promise((r) => setTimeout(r, 1100)); // tokens issued in the verifier's boot second are refused
  const { token } = await mintApprovalToken({ privateKey: pair.privateKey, kid, deviceId, userId: 'alice', request, agent: 'agent:forum-helper', scope: 'forum.post', traceId: newTraceId() });
  const res = await fetch(request.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, body: payload });
  if (res.status !== 201) throw new Error(`approved post refused: ${res.status}`);
  return ((await res.json()) as { reply: { id: number } }).reply.id;
}

async function chooseMark(browser: ExtensionBrowser): Promise<void> {
  const options = await OptionsPage.open(browser);
  await options.page.getByRole('textbox', { name: 'Badge mark' }).fill(MARK);
  await options.page.getByRole('button', { name: 'Save mark' }).click();
  await options.page.getByRole('status').filter({ hasText: 'Badges now show' }).waitFor();
  await options.page.close();
}

async function readerOnTopic(browser: ExtensionBrowser, stack: Stack, beforeLoad?: (page: Page) => Promise<void>): Promise<ForumPage> {
  const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
  await forum.signIn('bob');
  if (beforeLoad) await beforeLoad(forum.page);
  await forum.openTopic(1);
  return forum;
}

test('fake badges: the page\'s own "AI · approved" imitations lack the reader\'s mark; every genuine badge carries it, in a closed shadow root', async ({ browser, stack }) => {
  const verified = await approvedAssistantPost(stack, 'Approved: ask the payroll team for a time-boxed grant.');
  const unverified = stack.demo.store.addReply(1, { author: 'agent:forum-helper', kind: 'assistant', body: 'Posted by an assistant with no approval.' }).id;
  await chooseMark(browser);
  const forum = await readerOnTopic(browser, stack);
  await expect.poll(async () => (await badgesOnPage(forum.page)).length, { timeout: 15_000 }).toBe(2);

  // The page imitates the genuine badge three ways next to the unapproved post: plain text, the same
  // element name with its own (open) shadow root, and a copy of a genuine badge.
  const fakes = await forum.page.evaluate((id) => {
    const anchor = document.querySelector(`#post-${id} header`)!;
    const span = document.createElement('span');
    span.textContent = '✔ AI · approved';
    const lookalike = document.createElement('countersign-badge');
    const root = lookalike.attachShadow({ mode: 'open' });
    const button = document.createElement('button');
    button.className = 'verified';
    button.textContent = '🦉 AI · approved';
    root.append(button);
    const copy = document.querySelector('countersign-badge')!.cloneNode(true);
    anchor.append(span, lookalike, copy);
    return 3;
  }, unverified);

  const badges = await badgesOnPage(forum.page);
  const genuine = badges.filter((b) => b.shadowRootType === 'closed' && b.text.includes(MARK));
  const imitations = badges.filter((b) => !genuine.includes(b));
  expect(genuine.map((b) => [b.postId, b.state]).sort()).toEqual([[`post-${unverified}`, 'unverified-ai'], [`post-${verified}`, 'verified']].sort());
  // The look-alike and the copy: on the unapproved post, without the mark; the copy is empty (closed roots are not cloned).
  expect(imitations).toHaveLength(2);
  for (const fake of imitations) {
    expect(fake.postId).toBe(`post-${unverified}`);
    expect(fake.text).not.toContain(MARK);
  }
  expect(imitations.find((b) => b.shadowRootType === 'open')?.text).toBe('🦉 AI · approved');
  const unauthorized = imitations.filter((b) => b.text.includes(MARK)).length;
  recordAttacks('fake badges drawn by the page', fakes, unauthorized);
  expect(unauthorized).toBe(0);
});

test('the page cannot read or copy the mark: shadowRoot, text, selection, find(), clones, a hooked attachShadow, ElementInternals of a look-alike custom element', async ({ browser, stack }) => {
  await approvedAssistantPost(stack, 'Approved: ask the payroll team for a time-boxed grant.');
  await chooseMark(browser);
  const forum = await readerOnTopic(browser, stack, async (page) => {
    // Before any page content: hook attachShadow in the page's world, and define the badge's own
    // element name so that elements the extension creates with it would be the page's custom
    // elements, whose ElementInternals could reach even a closed shadow root.
    await page.addInitScript(() => {
      const w = window as unknown as Win;
      w.__roots = [];
      w.__internals = [];
      const attach = Element.prototype.attachShadow;
      Element.prototype.attachShadow = function (this: Element, init: ShadowRootInit) {
        const root = attach.call(this, init);
        (w.__roots as ShadowRoot[]).push(root);
        return root;
      };
      customElements.define(
        'countersign-badge',
        class extends HTMLElement {
          constructor() {
            super();
            (w.__internals as ElementInternals[]).push(this.attachInternals());
          }
        },
      );
    });
  });
  await expect.poll(async () => (await badgesOnPage(forum.page)).filter((b) => b.text.includes(MARK)).length, { timeout: 15_000 }).toBe(1);

  const tries = await forum.page.evaluate((mark) => {
    const w = window as unknown as Win;
    const hosts = [...document.querySelectorAll('countersign-badge, [data-countersign-badge]')];
    const find = (s: string) => {
      getSelection()?.removeAllRanges();
      return (window as unknown as { find(s: string, cs: boolean, back: boolean, wrap: boolean, word: boolean, frames: boolean, dialog: boolean): boolean }).find(s, true, false, true, false, false, false);
    };
    document.execCommand('selectAll');
    const selection = getSelection()?.toString() ?? '';
    const clone = hosts[0]?.cloneNode(true) as Element | undefined;
    const readings: Array<[string, string]> = [
      ['host.shadowRoot', String(hosts.map((h) => h.shadowRoot?.innerHTML ?? '').join(''))],
      ['body.textContent', document.body.textContent ?? ''],
      ['body.innerText', document.body.innerText],
      ['body.innerHTML', document.body.innerHTML],
      ['selectAll selection', selection],
      ['clone', (clone?.shadowRoot?.innerHTML ?? '') + (clone?.outerHTML ?? '')],
      ['hooked attachShadow', (w.__roots as ShadowRoot[]).map((r) => r.innerHTML).join('')],
      ['ElementInternals.shadowRoot', (w.__internals as ElementInternals[]).map((i) => i.shadowRoot?.innerHTML ?? '').join('')],
      ['host attributes', hosts.map((h) => [...h.attributes].map((a) => a.value).join(' ')).join(' ')],
      ['performance entries', JSON.stringify(performance.getEntries())],
      // Whole, and piece by piece as a page would guess a mark from a small alphabet (pieces that
      // appear nowhere else on the page, so a hit can only come from the badge).
      ...[mark, 'ZQ', 'Q7', '🦉'].map((s): [string, string] => [`find(${s})`, find(s) ? mark : '']),
    ];
    return { hosts: hosts.length, readings };
  }, MARK);
  expect(tries.hosts).toBeGreaterThan(0);
  const leaked = tries.readings.filter(([, value]) => value.includes(MARK)).map(([how]) => how);
  recordAttacks('reading the secret mark from the page', tries.readings.length, leaked.length);
  expect(leaked).toEqual([]);
  // And the badge is still there for the reader, mark and all.
  expect((await badgesOnPage(forum.page)).filter((b) => b.shadowRootType === 'closed' && b.text.includes(MARK))).toHaveLength(1);
});

test('a genuine badge cannot be reused: the page moving a verified badge onto another post, or rewriting a verified post\'s text after the check, leaves no "verified" next to content nobody approved', async ({ browser, stack }) => {
  const moved = await approvedAssistantPost(stack, 'Approved: the first answer.');
  const rewritten = await approvedAssistantPost(stack, 'Approved: the second answer.');
  const target = stack.demo.store.addReply(1, { author: 'agent:forum-helper', kind: 'assistant', body: 'Posted by an assistant with no approval.' }).id;
  await chooseMark(browser);
  const forum = await readerOnTopic(browser, stack);
  const genuine = async () => (await badgesOnPage(forum.page)).filter((b) => b.shadowRootType === 'closed' && b.text.includes(MARK));
  await expect.poll(async () => (await genuine()).length, { timeout: 15_000 }).toBe(3);

  await forum.page.evaluate(
    ({ moved, rewritten, target }) => {
      // Move the first post's genuine badge into the unapproved post's header...
      document.querySelector(`#post-${target} header`)!.append(document.querySelector(`#post-${moved} countersign-badge, #post-${moved} [data-countersign-badge]`)!);
      // ...and rewrite the second approved post's text under its badge.
      document.querySelector(`#post-${rewritten} .post-body`)!.textContent = 'payroll-2026 is open to everyone now: download it.';
    },
    { moved, rewritten, target },
  );
  // Wait until the badges settle: the unapproved post shows exactly one genuine badge (its own) and
  // the rewritten post's badge is no longer the one drawn for the approved text.
  const verifiedBeside = async () => {
    const all = await genuine();
    const on = (id: number) => all.filter((b) => b.postId === `post-${id}`).map((b) => b.state);
    return { target: on(target), rewritten: on(rewritten), moved: on(moved) };
  };
  // The moved badge's own post is checked again and gets its badge back, where it belongs.
  await expect.poll(verifiedBeside, { timeout: 15_000 }).toEqual({ target: ['unverified-ai'], rewritten: ['invalid'], moved: ['verified'] });
  const after = await verifiedBeside();
  const unauthorized = after.target.filter((s) => s === 'verified').length + after.rewritten.filter((s) => s === 'verified').length;
  recordAttacks('genuine badge moved or its post rewritten', 2, unauthorized);
  expect(unauthorized).toBe(0);
});
