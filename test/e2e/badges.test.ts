// Readers' badges on the demo forum in real Chromium: a verified assistant post, an unverified one,
// one edited in the database after approval, and a receipt signed by a foreign key each get the
// right badge with the reader's secret mark; human posts get none; posts added later are badged;
// a badge the page draws itself lacks the mark; the popup lists the page's posts.
import { exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, mintReceipt, newTraceId } from '@/lib/protocol';
import { expect, test } from '../helpers/browser/fixtures';
import type { Stack } from '../helpers/browser/stack';
import { ForumPage } from '../helpers/browser/pages/demo-pages';
import { OptionsPage, PopupPage } from '../helpers/browser/pages/extension-pages';
import { badgesOnPage } from '../helpers/browser/shadow';
import { screenshot } from '../helpers/browser/screenshots';

const MARK = '🦉Q7';

/** An assistant post approved for real: a device enrolled for alice signs, the forum's middleware verifies. */
async function approvedAssistantPost(stack: Stack, body: string): Promise<number> {
  const { code } = (await (await stack.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json()) as { code: string };
  const pair = await generateEs256KeyPair();
  const enrolled = await fetch(`${stack.verifierUrl}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, publicKeyJwk: await exportEs256PublicJwk(pair.publicKey), label: 'badge test' }) });
  const { kid, deviceId } = (await enrolled.json()) as { kid: string; deviceId: string };
  const payload = JSON.stringify({ body, author_kind: 'assistant' });
  const request = { method: 'POST', url: `${stack.forumUrl}/api/topics/1/replies`, contentType: 'application/json', body: payload };
  await new Promise((r) => setTimeout(r, 1100)); // tokens issued in the verifier's boot second are refused
  const { token } = await mintApprovalToken({ privateKey: pair.privateKey, kid, deviceId, userId: 'alice', request, agent: 'agent:forum-helper', scope: 'forum.post', traceId: newTraceId() });
  const res = await fetch(request.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, body: payload });
  if (res.status !== 201) throw new Error(`approved post refused: ${await res.text()}`);
  return ((await res.json()) as { reply: { id: number } }).reply.id;
}

test('each post gets the right badge, with the secret mark, and later posts too', async ({ browser, stack }) => {
  const store = stack.demo.store;
  const verified = await approvedAssistantPost(stack, 'Approved: ask the payroll team for a time-boxed grant.');
  const edited = await approvedAssistantPost(stack, 'Approved text that someone will edit later.');
  store.updateReplyBody(edited, 'Edited in the database: the dataset is now public.');
  const unverified = store.addReply(1, { author: 'agent:forum-helper', kind: 'assistant', body: 'Posted by an assistant with no approval.' }).id;
  const foreign = await generateEs256KeyPair();
  const forged = await mintReceipt({ privateKey: foreign.privateKey, kid: 'rk-forged', issuer: stack.verifierUrl, agent: 'agent:forum-helper', approver: 'alice', traceId: newTraceId(), digest: 'A'.repeat(43), policyVersion: 'v1', content: 'A post whose receipt a stranger signed.' });
  const forgedId = store.addReply(1, { author: 'agent:forum-helper', kind: 'assistant', body: 'A post whose receipt a stranger signed.', receipt: forged.receipt }).id;
  const human = store.addReply(1, { author: 'bob', kind: 'person', body: 'A person wrote this.' }).id;

  const options = await OptionsPage.open(browser);
  await options.page.getByRole('textbox', { name: 'Badge mark' }).fill(MARK);
  await options.page.getByRole('button', { name: 'Save mark' }).click();
  await options.page.getByRole('status').filter({ hasText: 'Badges now show' }).waitFor();

  const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
  await forum.signIn('bob');
  await forum.openTopic(1);
  // A hostile page draws its own "approved" badge: it cannot know the mark.
  await forum.page.evaluate(() => {
    const fake = document.createElement('span');
    fake.textContent = '✔ AI · approved';
    document.querySelector(`#post-${document.querySelectorAll('article.post').length}`)?.append(fake);
  });

  const byPost = async () => new Map((await badgesOnPage(forum.page)).map((b) => [b.postId, b]));
  await expect.poll(async () => (await byPost()).size, { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
  const badges = await byPost();
  expect(badges.get(`post-${verified}`)).toMatchObject({ state: 'verified', shadowRootType: 'closed' });
  expect(badges.get(`post-${unverified}`)).toMatchObject({ state: 'unverified-ai' });
  expect(badges.get(`post-${edited}`)).toMatchObject({ state: 'invalid' });
  expect(badges.get(`post-${forgedId}`)).toMatchObject({ state: 'invalid' });
  expect(badges.has(`post-${human}`)).toBe(false);
  for (const b of badges.values()) expect(b.text).toContain(MARK);
  // Clicking a badge shows its details: agent, approver, time, trace id, what was checked.
  const host = await forum.page.locator(`#post-${verified} countersign-badge`).boundingBox();
  await forum.page.mouse.click(host!.x + 10, host!.y + host!.height / 2);
  const opened = (await byPost()).get(`post-${verified}`)!;
  expect(opened.detailsOpen).toBe(true);
  expect(opened.details).toMatch(/Written by agent:forum-helper, approved by alice at \d{4}-/);
  expect(opened.details).toMatch(/trace [0-9a-f]{32}/);
  expect(opened.details).toContain('text unchanged since approval');
  await screenshot(forum.page, 'forum-badges');

  // A post that arrives after load (live update, infinite scroll) is badged too.
  await forum.page.evaluate(() => {
    const article = document.createElement('article');
    article.className = 'post';
    article.id = 'post-live';
    article.innerHTML = '<header><span class="author">assistant</span></header><div class="post-body">A live update from the assistant.</div>';
    document.querySelector('article.post')!.parentElement!.append(article);
  });
  await expect.poll(async () => (await byPost()).get('post-live')?.state, { timeout: 15_000 }).toBe('unverified-ai');

  const popup = await PopupPage.open(browser);
  await forum.page.bringToFront();
  await popup.page.reload();
  const list = popup.page.getByRole('list', { name: 'AI posts on this page' });
  await expect.poll(async () => (await list.getByRole('listitem').allTextContents()).join('\n'), { timeout: 10_000 }).toContain('agent:forum-helper, approved by alice');
  expect(await list.locator('[data-state="invalid"]').count()).toBe(2);
});
