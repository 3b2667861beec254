// User presence in real Chromium (DESIGN.md, "User presence"): the built extension, the real verifier,
// the Access console, and a virtual authenticator (DevTools WebAuthn domain) on the extension's
// pages. Enrollment registers the device's credential; an access change (`admin.acl.write`, which
// the default policy marks `presence: "uv"`) asks for a user-verified assertion in the popup. A
// person's fingerprint lets it through; the same click without it, an assertion replayed on another
// action, a token without one, and a cloned authenticator are refused. A post needs none.
import type { ActionRequest } from '@/lib/protocol/index';
import { newTraceId, presenceChallenge } from '@/lib/protocol/index';
import { enrollAs, expect, test } from '../helpers/browser/fixtures';
import type { ExtensionBrowser } from '../helpers/browser/browser';
import { mintWithDeviceKey, tokenClaims } from '../helpers/browser/device-key';
import { ConsolePage, ForumPage } from '../helpers/browser/pages/demo-pages';
import { OptionsPage, PopupPage } from '../helpers/browser/pages/extension-pages';
import type { Stack } from '../helpers/browser/stack';
import { heldRows } from '../helpers/browser/two-profiles';

const AGENT = 'agent:access-helper';
const SCOPE = 'admin.acl.write';
const DATASET = 'payroll-2026';
/** What the Access assistant presents itself with to the console's API (the demo's seed). */
const AGENT_KEY = 'access-helper-key';

const visibility = (stack: Stack) => stack.demo.store.datasetAccess(DATASET)?.visibility;
const accessUrl = (stack: Stack) => new URL(`/api/datasets/${DATASET}/access`, stack.consoleUrl).href;

/** Alice enrolled (registering her authenticator), on the payroll dataset in the console, her assistant's access change held in her popup. */
async function heldAccessChange(browser: ExtensionBrowser, stack: Stack): Promise<{ console: ConsolePage; popup: PopupPage }> {
  await enrollAs(browser, stack);
  const console = new ConsolePage(await browser.context.newPage(), stack.consoleUrl);
  await console.signIn('alice');
  await console.openDataset(DATASET);
  await console.applySuggestion();
  const popup = await PopupPage.open(browser);
  await popup.action(AGENT, SCOPE).waitFor({ timeout: 15_000 });
  return { console, popup };
}

/** Approves in the popup and waits for the console to apply it. */
async function approveAndApply(stack: Stack, popup: PopupPage): Promise<void> {
  await popup.approve(AGENT, SCOPE);
  await expect.poll(() => visibility(stack), { timeout: 15_000 }).toBe('all-employees');
}

/** The admin puts the dataset back to team-only: the assistant suggests the change again. */
function resetDataset(stack: Stack): void {
  stack.demo.store.setDatasetAccess(DATASET, { visibility: 'team-only', groups: ['payroll-team'] }, { changedBy: 'admin' });
}

/** The token the extension signed for the (one) released access change. */
async function releasedToken(browser: ExtensionBrowser): Promise<string> {
  const row = (await heldRows(browser)).find((r) => r.token !== null);
  if (!row?.token) throw new Error('no approved access change in the extension');
  return row.token;
}

/** The Access assistant calling the console's API itself with `token`: the console's middleware asks the verifier. */
async function agentCalls(stack: Stack, request: ActionRequest, token: string): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(request.url, {
    method: request.method,
    headers: { 'content-type': request.contentType ?? 'application/json', accept: 'application/json', 'x-agent-key': AGENT_KEY, 'countersign-approval': token },
    body: request.body,
  });
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
  return { status: res.status, code: body.error?.code };
}

const widen = (stack: Stack, groups: string[]): ActionRequest => ({
  method: 'PUT',
  url: accessUrl(stack),
  contentType: 'application/json',
  body: JSON.stringify({ visibility: 'all-employees', groups }),
});

test('enrollment registers the authenticator; the access change says it asks for presence, and a user-verified approval is applied with a receipt', async ({ browser, stack }) => {
  const { popup } = await heldAccessChange(browser, stack);
  expect(browser.authenticator.credentialIds()).toHaveLength(1);
  const [credentialId] = browser.authenticator.credentialIds();
  const registered = browser.authenticator.signCount(credentialId!);

  const item = popup.action(AGENT, SCOPE);
  expect(await item.getByText(/asks for your presence/i).count()).toBe(1);
  await approveAndApply(stack, popup);
  expect(stack.demo.store.accessHistory(DATASET).at(-1)).toMatchObject({ receipt: expect.stringMatching(/^ey/) });

  // The token carries the person's assertion, made for exactly this approval, and the authenticator counted it.
  const claims = tokenClaims(await releasedToken(browser));
  expect(claims.wa?.id).toBe(credentialId);
  const clientData = JSON.parse(Buffer.from(claims.wa!.cd, 'base64url').toString()) as { type: string; challenge: string; origin: string };
  expect(clientData).toMatchObject({ type: 'webauthn.get', origin: `chrome-extension://${browser.extensionId}` });
  expect(clientData.challenge).toBe(await presenceChallenge({ dig: claims.act.dig, jti: claims.jti, exp: claims.exp }));
  expect(browser.authenticator.signCount(credentialId!)).toBeGreaterThan(registered);
});

test('the same click with verification off is refused in the popup: nothing is signed, the change stays held; with verification it goes through', async ({ browser, stack }) => {
  const { popup } = await heldAccessChange(browser, stack);
  await browser.authenticator.setUserVerified(false);
  await popup.approve(AGENT, SCOPE);
  const item = popup.action(AGENT, SCOPE);
  await expect.poll(() => item.getByRole('alert').textContent(), { timeout: 15_000 }).toMatch(/presence was not confirmed/i);
  // Still held, unsigned; the console never saw the change.
  const rows = await heldRows(browser);
  expect(rows.map((r) => [r.state, r.token])).toEqual([['held', null]]);
  expect(visibility(stack)).toBe('team-only');

  await browser.authenticator.setUserVerified(true);
  await approveAndApply(stack, popup);
});

test('attack: an assertion taken from one approval and replayed on another action is refused presence_invalid', async ({ browser, stack }) => {
  const { popup } = await heldAccessChange(browser, stack);
  await approveAndApply(stack, popup);
  const stolen = tokenClaims(await releasedToken(browser)).wa!;
  resetDataset(stack);

  // The agent drives the browser: it can sign with the device key, and it holds a real assertion of alice's.
  const other = widen(stack, ['payroll-team', 'contractors']);
  const { token } = await mintWithDeviceKey(browser, { request: other, agent: AGENT, scope: SCOPE, traceId: newTraceId(), ttlSeconds: 120, wa: stolen });
  expect(await agentCalls(stack, other, token)).toEqual({ status: 403, code: 'presence_invalid' });
  expect(visibility(stack)).toBe('team-only');
});

test('attack: a browser-driving agent signs with the device key but without the person: no wa is refused presence_required', async ({ browser, stack }) => {
  await enrollAs(browser, stack);
  const request = widen(stack, ['payroll-team']);
  const { token, claims } = await mintWithDeviceKey(browser, { request, agent: AGENT, scope: SCOPE, traceId: newTraceId(), ttlSeconds: 120 });
  expect(claims.wa).toBeUndefined();
  expect(await agentCalls(stack, request, token)).toEqual({ status: 403, code: 'presence_required' });
  expect(visibility(stack)).toBe('team-only');
});

test('attack: a cloned authenticator whose sign count goes back is refused presence_invalid, and the change is not applied', async ({ browser, stack }) => {
  const { console, popup } = await heldAccessChange(browser, stack);
  await approveAndApply(stack, popup);
  const [credentialId] = browser.authenticator.credentialIds();
  expect(browser.authenticator.signCount(credentialId!)).toBeGreaterThan(1);

  // Another copy of alice's credential, its counter behind the one the verifier has admitted.
  await browser.authenticator.installClone(credentialId!, 0);
  resetDataset(stack);
  await console.openDataset(DATASET);
  await console.applySuggestion();
  await popup.page.reload();
  const item = popup.action(AGENT, SCOPE);
  await item.waitFor({ timeout: 15_000 });
  await popup.approve(AGENT, SCOPE);
  // The extension signs (the clone verified the person); the verifier refuses it for the console.
  await expect.poll(() => console.status().textContent(), { timeout: 15_000 }).toMatch(/presence_invalid/);
  expect(visibility(stack)).toBe('team-only');
  expect(stack.demo.store.accessHistory(DATASET).filter((c) => c.receipt)).toHaveLength(1);
});

test('a post, a scope without presence, is approved with no authenticator at all', async ({ browser, stack }) => {
  await enrollAs(browser, stack);
  // The authenticator is lost, and would not verify anyone anyway.
  await browser.authenticator.forgetCredentials();
  await browser.authenticator.setUserVerified(false);
  const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
  await forum.signIn('alice');
  await forum.openTopic(1);
  const before = stack.demo.store.listReplies(1).length;
  await forum.askAssistant();
  const popup = await PopupPage.open(browser);
  const item = popup.action('agent:forum-helper', 'forum.post');
  await item.waitFor({ timeout: 15_000 });
  expect(await item.getByText(/asks for your presence/i).count()).toBe(0);
  await popup.approve('agent:forum-helper', 'forum.post');
  await expect.poll(() => stack.demo.store.listReplies(1).length, { timeout: 15_000 }).toBe(before + 1);
  expect(stack.demo.store.listReplies(1).at(-1)?.receipt).toMatch(/^ey/);
  expect(tokenClaims(await releasedToken(browser)).wa).toBeUndefined();
});

test('the options page says the device\'s authenticator is registered', async ({ browser, stack }) => {
  await enrollAs(browser, stack);
  const options = await OptionsPage.open(browser);
  const [credentialId] = browser.authenticator.credentialIds();
  await expect.poll(() => options.page.getByTestId('presence').textContent(), { timeout: 15_000 }).toBe(`Presence: registered (credential ${credentialId!.slice(0, 8)}…).`);
});
