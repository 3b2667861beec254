// The two-person rule in real Chromium, two browsers with profiles of their own (alice and bob, each
// enrolled): policy requires two approvers for the Access console's `admin.acl.write`. Alice's
// assistant makes the payroll change; alice approves in her popup and the page stays held, waiting
// for one more; bob's popup shows it with alice's approval and the same diff; bob approves, and
// alice's page request is released with both tokens, applied by the console, its receipt naming both.
// Bob rejecting ends alice's hold rejected; nobody second ends it expired; alice approving twice never
// releases it.
import { decodeJwt } from 'jose';
import { afterEach } from 'vitest';
import { expect, test } from '../helpers/browser/fixtures';
import type { ExtensionBrowser } from '../helpers/browser/browser';
import { extensionLog } from '../helpers/browser/extension-log';
import { PopupPage } from '../helpers/browser/pages/extension-pages';
import { screenshot } from '../helpers/browser/screenshots';
import type { Stack } from '../helpers/browser/stack';
import { TWO_PERSON_POLICY, heldRows, personIn, secondBrowser, testDevice, uploadPolicy } from '../helpers/browser/two-profiles';
import type { Person } from '../helpers/browser/two-profiles';

const AGENT = 'agent:access-helper';
const SCOPE = 'admin.acl.write';

const visibility = (stack: Stack) => stack.demo.store.datasetAccess('payroll-2026')?.visibility;

/** Alice's held payroll change in her popup, and bob's view of the same change in his. */
function heldItem(popup: PopupPage) {
  return popup.page.getByRole('region', { name: 'Pending actions' }).getByRole('listitem', { name: `${AGENT} ${SCOPE}` });
}
function waitingItem(popup: PopupPage) {
  return popup.page.getByRole('region', { name: 'Waiting for other approvers' }).getByRole('listitem', { name: `${AGENT} ${SCOPE}` });
}
function proposalItem(popup: PopupPage) {
  return popup.page.getByRole('region', { name: 'Agent proposals' }).getByRole('listitem', { name: `${AGENT} ${SCOPE}` });
}

/** Both people ready, the policy uploaded; alice's assistant applies its suggestion and alice approves it in her popup. */
async function aliceApproves(browser: ExtensionBrowser, stack: Stack, bobBrowser: ExtensionBrowser): Promise<{ alice: Person; bob: Person; popup: PopupPage }> {
  await uploadPolicy(stack, TWO_PERSON_POLICY);
  const alice = await personIn(browser, stack, 'alice');
  const bob = await personIn(bobBrowser, stack, 'bob');
  await alice.console.applySuggestion();
  const popup = await PopupPage.open(browser);
  const item = heldItem(popup);
  await item.waitFor({ timeout: 15_000 });
  await expect.poll(() => item.getByRole('note', { name: 'Approvers' }).textContent(), { timeout: 15_000 }).toContain('Needs 2 approvers');
  await item.getByRole('button', { name: 'Approve' }).click();
  const waiting = waitingItem(popup);
  await waiting.waitFor({ timeout: 15_000 });
  await expect.poll(() => waiting.getByRole('status', { name: 'Waiting for approvers' }).textContent(), { timeout: 15_000 }).toBe('Approved by alice; waiting for 1 more approver (policy requires 2).');
  return { alice, bob, popup };
}

test.describe('two approvers for the payroll change', () => {
  let bobBrowser: ExtensionBrowser | null = null;
  afterEach(async () => {
    await bobBrowser?.close();
    bobBrowser = null;
  });

  test('alice approves, the page waits for one more; bob sees her approval and the same diff, approves, and the console applies it with both tokens', async ({ browser, stack }) => {
    bobBrowser = await secondBrowser();
    const { popup } = await aliceApproves(browser, stack, bobBrowser);
    expect(visibility(stack)).toBe('team-only');
    await popup.page.setViewportSize({ width: 420, height: 700 });
    await screenshot(popup.page, 'popup-two-person-waiting');

    const bobPopup = await PopupPage.open(bobBrowser);
    const item = proposalItem(bobPopup);
    await item.waitFor({ timeout: 20_000 });
    expect(await item.getByRole('note', { name: 'Approvers' }).textContent()).toBe("Held in alice's browser; needs 2 approvers (policy requires 2): approved by alice so far.");
    // The same diff: the before read by bob's extension in bob's own session.
    const row = item.getByRole('table', { name: 'Changes' }).getByRole('row', { name: /^visibility/ });
    expect(await row.getByRole('cell').allTextContents()).toEqual(['team-only', 'all-employees']);
    await bobPopup.page.setViewportSize({ width: 420, height: 700 });
    await screenshot(bobPopup.page, 'popup-two-person-second-approver');
    expect(visibility(stack)).toBe('team-only');

    await item.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => visibility(stack), { timeout: 30_000 }).toBe('all-employees');
    const change = stack.demo.store.accessHistory('payroll-2026').at(-1);
    expect(change?.receipt).toMatch(/^ey/);
    expect(decodeJwt(change!.receipt!)).toMatchObject({ apv: 'alice', apvs: ['alice', 'bob'], sub: AGENT });
    await expect.poll(async () => (await heldRows(browser)).map((r) => r.state), { timeout: 15_000 }).toEqual(['released']);
    const [released] = await heldRows(browser);
    expect(released!.tokens).toHaveLength(2);
    expect(decodeJwt(released!.tokens![0]!)).toMatchObject({ sub: 'alice' });
    expect(decodeJwt(released!.tokens![1]!)).toMatchObject({ sub: 'bob' });
    // Alice's device chain: proposed, held, approved (hers, waiting), approved (the quorum), released.
    const trail = (await extensionLog(browser)).filter((e) => e.trc === released!.spec.trc);
    expect(trail.map((e) => e.type)).toEqual(['proposed', 'held', 'approved', 'approved', 'released']);
    expect(trail[2]!.detail).toMatchObject({ quorum: 2, waiting: 'for 1 more approver' });
    expect(trail[3]!.detail).toMatchObject({ approvers: 'alice,bob', tokens: 2 });
  });

  test('bob rejects: alice\'s hold ends rejected with his reason, and the console never changes', async ({ browser, stack }) => {
    bobBrowser = await secondBrowser();
    await aliceApproves(browser, stack, bobBrowser);
    const bobPopup = await PopupPage.open(bobBrowser);
    const item = proposalItem(bobPopup);
    await item.waitFor({ timeout: 20_000 });
    await item.getByLabel('Reason').fill('Payroll stays team-only.');
    await item.getByRole('button', { name: 'Reject' }).click();
    await expect.poll(async () => (await heldRows(browser)).map((r) => [r.state, r.reason]), { timeout: 30_000 }).toEqual([['rejected', 'Rejected by another approver: Payroll stays team-only.']]);
    expect(visibility(stack)).toBe('team-only');
    expect((await extensionLog(browser)).map((e) => e.type)).toContain('rejected');
  });

  test('attack: alice approves twice (a second device of hers, her own token replayed) — still waiting, never released', async ({ browser, stack }) => {
    bobBrowser = await secondBrowser();
    await aliceApproves(browser, stack, bobBrowser);
    await expect.poll(async () => (await heldRows(browser))[0]?.published ?? null, { timeout: 15_000 }).toMatch(/^prp_/);
    const [row] = await heldRows(browser);
    const proposalId = row!.published!;
    const aliceElsewhere = await testDevice(stack, 'alice');
    // Her own token, replayed as a second approval, and a fresh one from her other device: neither counts.
    const replayed = await aliceElsewhere.call('POST', `/v1/proposals/${proposalId}/decision`, { approve: row!.token });
    expect(replayed.status).toBeGreaterThanOrEqual(400);
    const request = (await (await aliceElsewhere.call('GET', '/v1/proposals?state=pending')).json()) as { proposals: Array<{ id: string }> };
    expect(request.proposals.map((p) => p.id)).not.toContain(proposalId);
    const stored = await browser.context.serviceWorkers().at(-1)!.evaluate(async (id) => {
      const open = indexedDB.open('countersign');
      const database = await new Promise<IDBDatabase>((resolve) => (open.onsuccess = () => resolve(open.result)));
      const get = database.transaction('actions').objectStore('actions').get(id);
      return new Promise<{ spec: { request: { method: string; url: string; contentType: string | null; body: string | null }; trc: string } }>((resolve) => (get.onsuccess = () => resolve(get.result)));
    }, row!.id);
    const second = await aliceElsewhere.mint(stored.spec.request, AGENT, SCOPE, stored.spec.trc);
    const twice = await aliceElsewhere.call('POST', `/v1/proposals/${proposalId}/decision`, { approve: second });
    expect(twice.status).toBeGreaterThanOrEqual(400);
    // And her two tokens straight at the console: two of one person are no quorum.
    const direct = await fetch(`${stack.consoleUrl}/api/datasets/payroll-2026/access`, {
      method: 'PUT',
      headers: { 'content-type': stored.spec.request.contentType ?? 'application/json', 'countersign-approval': `${row!.token}, ${second}` },
      body: stored.spec.request.body,
    });
    expect(direct.status).toBeGreaterThanOrEqual(400);
    await browser.context.serviceWorkers().at(-1)!.evaluate(() => new Promise((resolve) => setTimeout(resolve, 2000)));
    expect((await heldRows(browser)).map((r) => r.state)).toEqual(['awaiting']);
    expect(visibility(stack)).toBe('team-only');
  });
});

test.describe('with a short time to live', () => {
  test.override({ policy: { approvalTtlSeconds: 15 } });
  let bobBrowser: ExtensionBrowser | null = null;
  afterEach(async () => {
    await bobBrowser?.close();
    bobBrowser = null;
  });

  test('nobody approves second: alice\'s hold ends expired, and the console never changes', async ({ browser, stack }) => {
    bobBrowser = await secondBrowser();
    await aliceApproves(browser, stack, bobBrowser);
    await expect.poll(async () => (await heldRows(browser)).map((r) => r.state), { timeout: 60_000, interval: 1000 }).toEqual(['expired']);
    expect(visibility(stack)).toBe('team-only');
    expect((await extensionLog(browser)).map((e) => e.type)).toContain('expired');
  });
});
