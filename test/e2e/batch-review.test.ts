// Batch review in real Chromium against the demo forum and a running verifier: three assistant posts
// held in three tabs (one agent, one scope) are approved in one step from the popup's "Review 3
// together", each its own token over its own digest, each released with its own receipt; an item
// that expired, or whose tab went away, after the popup showed it is left out and the popup says why,
// while the rest are released; an unticked one stays pending.
import { enrollAs, expect, test } from '../helpers/browser/fixtures';
import type { ExtensionBrowser } from '../helpers/browser/browser';
import { askInTabs, assistantStatus, forumTopics, openBatch, receiptClaims } from '../helpers/browser/batch-review';
import { extensionLog } from '../helpers/browser/extension-log';
import { ExtensionStore } from '../helpers/browser/extension-store';
import { screenshot } from '../helpers/browser/screenshots';
import type { Stack } from '../helpers/browser/stack';

const AGENT = 'agent:forum-helper';

/** The assistant's replies on each topic, after the ones it had before. */
function newReplies(stack: Stack, topics: readonly number[], before: ReadonlyMap<number, number>) {
  return topics.map((t) => stack.demo.store.listReplies(t).slice(before.get(t)));
}
const countsOf = (stack: Stack, topics: readonly number[]) => new Map(topics.map((t) => [t, stack.demo.store.listReplies(t).length]));

/** The traces the device log records as approved by alice for the forum helper. */
async function approvedTraces(browser: ExtensionBrowser): Promise<string[]> {
  return (await extensionLog(browser)).filter((e) => e.type === 'approved' && e.agent === AGENT).map((e) => e.trc ?? '(none)');
}

test('three held posts of one agent and scope, approved in one step: three tokens, three releases, three receipts', async ({ browser, stack }) => {
  await enrollAs(browser, stack);
  const topics = forumTopics(stack, 3);
  const before = countsOf(stack, topics);
  const tabs = await askInTabs(browser, stack, topics);

  const batch = await openBatch(browser, 3);
  expect(await batch.items().count()).toBe(3);
  // One list, every diff visible: each item shows its own post text and the request it is.
  for (const topic of topics) {
    const item = batch.itemFor(topic);
    expect(await item.getByLabel('Post text').textContent()).toContain('payroll-2026 is team-only');
    expect(await item.getByLabel('Also in the request').textContent()).toContain('author_kindassistant');
    expect(await item.getByRole('checkbox').isChecked()).toBe(true);
  }
  expect(newReplies(stack, topics, before).flat()).toHaveLength(0);
  await batch.page.setViewportSize({ width: 420, height: 900 });
  await screenshot(batch.page, 'popup-batch-review');

  await batch.approveSelected();
  expect(await batch.summary().textContent()).toBe('3 of 3 approved.');
  for (const topic of topics) expect(await batch.outcome(batch.itemFor(topic)).textContent()).toBe('Approved: released to its page.');
  for (const tab of tabs) await expect.poll(() => assistantStatus(tab).textContent(), { timeout: 15_000 }).toBe('Posted');

  // Each post is stored once, with its own receipt: its own trace and its own digest, approved by alice.
  const posted = newReplies(stack, topics, before);
  expect(posted.map((r) => r.length)).toEqual([1, 1, 1]);
  const receipts = posted.map(([reply]) => receiptClaims(reply!.receipt!));
  expect(new Set(receipts.map((r) => r.trc)).size).toBe(3);
  expect(new Set(receipts.map((r) => r.act)).size).toBe(3);
  expect(receipts.map((r) => r.apv)).toEqual(['alice', 'alice', 'alice']);

  // Three tokens, one per held action, and the device log: three approvals, three releases, the same traces.
  const rows = (await new ExtensionStore(browser).actions()).filter((r) => r.spec.agent === AGENT);
  expect(rows.map((r) => r.state)).toEqual(['released', 'released', 'released']);
  expect(new Set(rows.map((r) => r.token)).size).toBe(3);
  const traces = await approvedTraces(browser);
  expect(traces.sort()).toEqual(receipts.map((r) => r.trc).sort());
  const log = await extensionLog(browser);
  expect(log.filter((e) => e.type === 'released' && e.agent === AGENT).map((e) => e.trc).sort()).toEqual(traces);
  expect(await browser.serviceWorker.evaluate(() => chrome.action.getBadgeText({}))).toBe('');
});

test('a post whose tab closed after the popup showed the batch is left out, saying why; an unticked one stays pending; the rest are released', async ({ browser, stack }) => {
  await enrollAs(browser, stack);
  const topics = forumTopics(stack, 3);
  const [kept, gone, unticked] = topics as [number, number, number];
  const before = countsOf(stack, topics);
  const tabs = await askInTabs(browser, stack, topics);
  const batch = await openBatch(browser, 3);

  await batch.itemFor(unticked).getByRole('checkbox').uncheck();
  expect(await batch.approveButton().textContent()).toBe('Approve selected (2)');
  // The tab is closed while the popup still shows its post: the background ends that action failed.
  await tabs[1]!.page.close();
  const store = new ExtensionStore(browser);
  await expect.poll(async () => (await store.actions()).find((r) => r.spec.request.url.endsWith(`/api/topics/${gone}/replies`))?.state, { timeout: 15_000 }).toBe('failed');

  await batch.approveSelected();
  expect(await batch.summary().textContent()).toBe('1 of 2 approved; 1 left out (see each).');
  expect(await batch.outcome(batch.itemFor(kept)).textContent()).toBe('Approved: released to its page.');
  expect(await batch.outcome(batch.itemFor(gone)).textContent()).toBe('Left out (already_decided): It is already failed: nothing more was signed for it.');
  expect(await batch.outcome(batch.itemFor(unticked)).textContent()).toBe('Not selected: still pending.');
  await expect.poll(() => assistantStatus(tabs[0]!).textContent(), { timeout: 15_000 }).toBe('Posted');

  expect(newReplies(stack, topics, before).map((r) => r.length)).toEqual([1, 0, 0]);
  const rows = await store.actions();
  const stateOf = (topic: number) => rows.find((r) => r.spec.request.url.endsWith(`/api/topics/${topic}/replies`));
  expect(stateOf(gone)).toMatchObject({ state: 'failed', token: null });
  expect(stateOf(unticked)).toMatchObject({ state: 'held', token: null });
  expect(await approvedTraces(browser)).toEqual([stateOf(kept)!.spec.trc]);

  // Back in the list, the unticked post still waits on its own.
  await batch.region().getByRole('button', { name: 'Done' }).click();
  await batch.popup.action(AGENT, 'forum.post').waitFor();
  expect(await batch.popup.action(AGENT, 'forum.post').count()).toBe(1);
});

test.describe('with a 20-second approval lifetime', () => {
  test.override({ policy: { approvalTtlSeconds: 20 } });

  test('one of three held posts expires after the popup showed the batch: left out as expired, the other two released', async ({ browser, stack }) => {
    await enrollAs(browser, stack);
    const topics = forumTopics(stack, 3);
    const before = countsOf(stack, topics);
    const [first] = await askInTabs(browser, stack, topics.slice(0, 1));
    const store = new ExtensionStore(browser);
    await expect.poll(async () => (await store.actions()).filter((r) => r.state === 'held').length, { timeout: 15_000 }).toBe(1);
    // The other two are held later, so the first runs out while they still have time.
    await first!.page.waitForTimeout(8_000);
    const others = await askInTabs(browser, stack, topics.slice(1));
    const batch = await openBatch(browser, 3);
    const expiring = batch.itemFor(topics[0]!);
    await expect.poll(() => expiring.getByRole('timer', { name: 'Time left' }).textContent(), { timeout: 20_000, interval: 250 }).toBe('0 s');

    await batch.approveSelected();
    expect(await batch.summary().textContent()).toBe('2 of 3 approved; 1 left out (see each).');
    expect(await batch.outcome(expiring).textContent()).toBe('Left out (expired): Its time ran out before the batch was approved: nothing was signed for it.');
    for (const topic of topics.slice(1)) expect(await batch.outcome(batch.itemFor(topic)).textContent()).toBe('Approved: released to its page.');
    for (const tab of others) await expect.poll(() => assistantStatus(tab).textContent(), { timeout: 15_000 }).toBe('Posted');

    expect(newReplies(stack, topics, before).map((r) => r.length)).toEqual([0, 1, 1]);
    const rows = await store.actions();
    const expired = rows.find((r) => r.spec.request.url.endsWith(`/api/topics/${topics[0]}/replies`));
    expect(expired?.token).toBeNull();
    expect((await approvedTraces(browser)).sort()).toEqual(rows.filter((r) => r.state === 'released').map((r) => r.spec.trc).sort());
  });
});
