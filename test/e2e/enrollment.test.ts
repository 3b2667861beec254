// Enrollment in real Chromium: with the verifier URL pushed through managed policy, the options page
// enrolls the browser with a one-time code, shows the user and kid, and the extension's log
// events (policy, then enrollment) arrive at the verifier in chain order.
import type { LogEvent } from '@/lib/protocol';
import { expect, test } from '../helpers/browser/fixtures';
import { OptionsPage } from '../helpers/browser/pages/extension-pages';
import { screenshot } from '../helpers/browser/screenshots';

test('the options page enrolls the browser, and its log reaches the verifier in order', async ({ browser, stack }) => {
  const { code } = (await (await stack.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json()) as { code: string };
  const options = await OptionsPage.open(browser);
  const page = options.page;

  const verifierUrl = page.getByLabel('Verifier URL');
  await expect.poll(() => verifierUrl.inputValue()).toBe(stack.verifierUrl);
  expect(await verifierUrl.getAttribute('readonly')).not.toBeNull();
  await page.getByLabel('Enrollment code').fill(code);
  await page.getByLabel('Device label').fill('e2e laptop');
  await page.getByRole('button', { name: 'Enroll' }).click();

  await expect.poll(() => page.getByTestId('enrolled-user').textContent(), { timeout: 15_000 }).toBe('alice');
  const kid = await page.getByTestId('kid').textContent();
  expect(kid).toMatch(/^[\w-]{43}$/);
  // Which verifier it uses and from where, and that it answered: never "not reachable" while it is up.
  expect(await page.getByTestId('verifier-in-use').textContent()).toBe(`${stack.verifierUrl} (from managed policy)`);
  await expect.poll(async () => (await page.getByTestId('verifier-status').textContent())?.startsWith(`reachable: ${stack.verifierUrl}, policy `)).toBe(true);
  await screenshot(page, 'options-enrolled');

  const db = stack.verifier.verifier.database.db;
  const device = await db.selectFrom('devices').selectAll().where('kid', '=', kid!).executeTakeFirstOrThrow();
  expect(device).toMatchObject({ user_id: 'alice', label: 'e2e laptop' });
  await expect.poll(async () => (await db.selectFrom('log_events').select('seq').where('device_id', '=', device.device_id).execute()).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
  const rows = await db.selectFrom('log_events').select(['seq', 'event']).where('device_id', '=', device.device_id).orderBy('seq').execute();
  const events = rows.map((r) => JSON.parse(r.event) as LogEvent);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events.map((e) => e.type)).toEqual(['policy_changed', 'enrolled']);
});

test('a wrong enrollment code is refused with the verifier\'s reason, and nothing is enrolled', async ({ browser }) => {
  const page = (await OptionsPage.open(browser)).page;
  await page.getByLabel('Enrollment code').fill('AAAA-BBBB-CCCC-DDDD');
  await page.getByRole('button', { name: 'Enroll' }).click();
  await expect.poll(() => page.getByRole('status').textContent()).toContain('Enrollment failed');
  expect(await page.getByTestId('enrolled-user').count()).toBe(0);
});
