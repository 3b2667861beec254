// The demo's admin policy, waiting until the extension protects the demo sites, and enrollment
// through the options page; free of Vitest so that bench/ can use them too. Node only (browser tests, bench).
import { OptionsPage } from './pages/extension-pages';
import type { ExtensionBrowser } from './browser';
import type { Stack } from './stack';

export { demoPolicy } from './demo-policy';

export async function waitForProtection(browser: ExtensionBrowser): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const scripts = await browser.serviceWorker.evaluate(() => chrome.scripting.getRegisteredContentScripts()).catch(() => []);
    if (['countersign-hooks', 'countersign-hold'].every((id) => scripts.some((s) => s.id === id))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the extension never registered its content scripts for the protected sites');
}

/** The browser, enrolled as alice through its options page. */
export async function enrollAs(browser: ExtensionBrowser, stack: Stack, userId = 'alice'): Promise<void> {
  const { code } = (await (await stack.admin('POST', '/v1/admin/enrollment-codes', { userId })).json()) as { code: string };
  const options = await OptionsPage.open(browser);
  await options.enroll(code);
  await options.page.close();
}
