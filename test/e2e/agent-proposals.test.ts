// Agents that act through APIs, in real Chromium against the verifier and the demo access console:
// an agent proposes the payroll change, alice's popup lists it beside her holds with a field-by-field
// diff whose "before" the extension read itself in her session, she approves and the agent's call
// lands at the tool with a receipt; a rejection reaches the agent with its reason and the tool is
// never called; the service worker stopped while a proposal is pending loses nothing.
import { spawn } from 'node:child_process';
import type { ActionRequest } from '@/lib/protocol/index';
import { ACCESS_HELPER_TOOL_KEY, ApiAgent } from '../helpers/browser/api-agent';
import { enrollAs, expect, test } from '../helpers/browser/fixtures';
import type { ExtensionBrowser } from '../helpers/browser/browser';
import { ConsolePage } from '../helpers/browser/pages/demo-pages';
import { PopupPage } from '../helpers/browser/pages/extension-pages';
import { screenshot } from '../helpers/browser/screenshots';
import type { Stack } from '../helpers/browser/stack';
import { WorkerControl } from '../helpers/browser/worker-control';

const AGENT = 'agent:access-helper';
const SCOPE = 'admin.acl.write';

function widen(stack: Stack): ActionRequest {
  return {
    method: 'PUT',
    url: `${stack.consoleUrl}/api/datasets/payroll-2026/access`,
    contentType: 'application/json',
    body: JSON.stringify({ visibility: 'all-employees', groups: ['payroll-team'] }),
  };
}

/** Alice enrolled, and signed in to the console in the same browser: the session the "before" is read in. */
async function aliceReady(browser: ExtensionBrowser, stack: Stack): Promise<void> {
  await enrollAs(browser, stack);
  const consolePage = new ConsolePage(await browser.context.newPage(), stack.consoleUrl);
  await consolePage.signIn('alice');
}

/** The agent proposal's entry in the popup, inside the agent proposals' own region. */
function proposalItem(popup: PopupPage) {
  return popup.page.getByRole('region', { name: 'Agent proposals' }).getByRole('listitem', { name: `${AGENT} ${SCOPE}` });
}

const badge = (browser: ExtensionBrowser) => browser.context.serviceWorkers().at(-1)!.evaluate(() => chrome.action.getBadgeText({}));

test('an agent proposes, alice sees it with its before → after in her popup, approves, and the agent\'s call lands with a receipt', async ({ browser, stack }) => {
  await aliceReady(browser, stack);
  const agent = await ApiAgent.create(stack, AGENT);
  const request = widen(stack);
  const created = await agent.propose(request, SCOPE, 'Open payroll-2026 to all employees, as asked in the ticket.');
  const waited = agent.waitForDecision(created.id);

  const popup = await PopupPage.open(browser);
  const item = proposalItem(popup);
  await item.waitFor({ timeout: 15_000 });
  expect(await item.getByLabel('Summary').textContent()).toBe('Open payroll-2026 to all employees, as asked in the ticket.');
  expect(await item.getByLabel('Request').textContent()).toBe(`PUT ${stack.consoleUrl}/api/datasets/payroll-2026/access`);
  // The before is the console's own answer in alice's session: team-only today.
  const visibility = item.getByRole('table', { name: 'Changes' }).getByRole('row', { name: /^visibility/ });
  expect(await visibility.getByRole('cell').allTextContents()).toEqual(['team-only', 'all-employees']);
  await expect.poll(() => badge(browser), { timeout: 15_000 }).toBe('1');
  expect(Object.keys(await browser.context.serviceWorkers().at(-1)!.evaluate(() => chrome.notifications.getAll()))).toContain(`agent-proposal:${created.id}`);
  await popup.page.setViewportSize({ width: 420, height: 700 });
  await screenshot(popup.page, 'popup-agent-proposal');
  expect(stack.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');

  await item.getByRole('button', { name: 'Approve' }).click();
  const status = await waited;
  if (status.state !== 'approved') throw new Error(`the proposal ended ${status.state}, not approved`);
  expect(status.token).toMatch(/^ey/);
  const res = await agent.execute(request, status.token, ACCESS_HELPER_TOOL_KEY);
  expect(res.status).toBe(200);
  expect(stack.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('all-employees');
  const change = stack.demo.store.accessHistory('payroll-2026').at(-1);
  expect(change?.receipt).toMatch(/^ey/);
  expect(change?.traceId).toBe(created.traceId);
  await expect.poll(() => badge(browser), { timeout: 15_000 }).toBe('');
  // The same token a second time is a replay: the tool refuses it.
  expect((await agent.execute(request, status.token, ACCESS_HELPER_TOOL_KEY)).status).toBe(409);
  // The whole life under the proposal's trace: the device logged proposed and approved.
  const events = await browser.context.serviceWorkers().at(-1)!.evaluate(async (trc) => {
    const open = indexedDB.open('countersign');
    const database = await new Promise<IDBDatabase>((resolve, reject) => ((open.onsuccess = () => resolve(open.result)), (open.onerror = () => reject(open.error))));
    const all = database.transaction('log').objectStore('log').getAll();
    const rows = await new Promise<Array<{ trc: string | null; type: string; seq: number }>>((resolve) => (all.onsuccess = () => resolve(all.result)));
    return rows.filter((r) => r.trc === trc).sort((a, b) => a.seq - b.seq).map((r) => r.type);
  }, created.traceId);
  expect(events).toEqual(['proposed', 'approved']);
});

test('alice rejects with a reason: the agent gets the reason, and the tool is never called', async ({ browser, stack }) => {
  await aliceReady(browser, stack);
  const agent = await ApiAgent.create(stack, AGENT);
  const created = await agent.propose(widen(stack), SCOPE, 'Open payroll-2026 to all employees.');
  const waited = agent.waitForDecision(created.id);
  const historyBefore = stack.demo.store.accessHistory('payroll-2026').length;

  const popup = await PopupPage.open(browser);
  const item = proposalItem(popup);
  await item.waitFor({ timeout: 15_000 });
  // Reject needs a reason: the agent is told why.
  expect(await item.getByRole('button', { name: 'Reject' }).isDisabled()).toBe(true);
  await item.getByLabel('Reason').fill('Payroll stays team-only.');
  await item.getByRole('button', { name: 'Reject' }).click();
  const status = await waited;
  expect(status).toEqual({ id: created.id, state: 'rejected', reason: 'Payroll stays team-only.' });
  expect(stack.demo.store.accessHistory('payroll-2026').length).toBe(historyBefore);
  expect(stack.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
  await expect.poll(() => item.count(), { timeout: 15_000 }).toBe(0);
});

test('the service worker stopped while a proposal is pending loses nothing: after it restarts the proposal is shown and can be approved', async ({ browser, stack }) => {
  await aliceReady(browser, stack);
  const agent = await ApiAgent.create(stack, AGENT);
  const request = widen(stack);
  const created = await agent.propose(request, SCOPE, 'Open payroll-2026 to all employees.');
  const waited = agent.waitForDecision(created.id);

  // The extension has seen it (the popup's opening polls), then the worker stops, as Chrome stops it when idle.
  const first = await PopupPage.open(browser);
  await proposalItem(first).waitFor({ timeout: 15_000 });
  await first.page.close();
  const control = await WorkerControl.open(browser);
  try {
    await control.stop();
    expect(control.runningStatus()).toBe('stopped');

    const popup = await PopupPage.open(browser);
    const item = proposalItem(popup);
    await item.waitFor({ timeout: 15_000 });
    await item.getByRole('button', { name: 'Approve' }).click();
    const status = await waited;
    if (status.state !== 'approved') throw new Error(`the proposal ended ${status.state}, not approved`);
    expect((await agent.execute(request, status.token, ACCESS_HELPER_TOOL_KEY)).status).toBe(200);
    expect(stack.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('all-employees');
  } finally {
    await control.close();
  }
});

test('the demo\'s well-behaved agent, a process of its own (npm run demo:agent -- --propose), acts only once alice approves in her popup', async ({ browser, stack }) => {
  await aliceReady(browser, stack);
  const key = await ApiAgent.key(stack, AGENT);
  const child = spawn('npm', ['run', '--silent', 'demo:agent', '--', '--propose'], {
    env: { ...process.env, VERIFIER_URL: stack.verifierUrl, CONSOLE_URL: stack.consoleUrl, COUNTERSIGN_AGENT_KEY: key },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const popup = await PopupPage.open(browser);
    const item = proposalItem(popup);
    await item.waitFor({ timeout: 30_000 });
    // Waiting on alice: nothing has changed at the tool.
    expect(stack.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
    await item.getByRole('button', { name: 'Approve' }).click();
    expect(await exited).toBe(0);
    expect(stdout).toContain('Access console answered HTTP 200');
    expect(stdout).not.toContain(key);
    expect(stack.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('all-employees');
    expect(stack.demo.store.accessHistory('payroll-2026').at(-1)?.receipt).toMatch(/^ey/);
  } finally {
    child.kill();
  }
});
