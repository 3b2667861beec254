// The verifier's kill switch reaches the extension through /v1/status.
import { expect, test } from '../helpers/browser/fixtures';
import { PopupPage } from '../helpers/browser/pages/extension-pages';

test('a global kill at the verifier shows in the popup once the extension checks', async ({ browser, stack }) => {
  await stack.admin('POST', '/v1/admin/kill', { scope: 'global' });
  // The status alarm runs every 30 s; opening the popup asks for a fresh check.
  const popup = await PopupPage.open(browser);
  await expect.poll(() => popup.page.getByRole('alert', { name: 'Kill switch' }).textContent(), { timeout: 15_000 }).toContain("verifier's kill switch");
});
