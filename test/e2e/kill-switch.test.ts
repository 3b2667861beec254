// The kill switch in real Chromium: pushed by the admin through managed policy, or engaged at the
// verifier, the popup says that nothing can be approved or released, and why.
import { expect, test } from '../helpers/browser/fixtures';
import { PopupPage } from '../helpers/browser/pages/extension-pages';
import { screenshot } from '../helpers/browser/screenshots';

test.override({ policy: { killSwitch: true } });

test('the managed kill switch: the popup says nothing can be approved, and why', async ({ browser }) => {
  const popup = await PopupPage.open(browser);
  const alert = popup.page.getByRole('alert', { name: 'Kill switch' });
  await expect.poll(() => alert.textContent()).toContain('administrator');
  await popup.page.setViewportSize({ width: 380, height: 420 });
  await screenshot(popup.page, 'popup-kill-switch');
});
