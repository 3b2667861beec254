// Vitest fixtures for browser tests: a running stack, admin policy, and Chromium with the extension.
// Each test gets its own; teardown always runs. Node only (browser tests).
import { test as base } from 'vitest';
import type { AdminPolicy } from '@/lib/protocol';
import { OptionsPage } from './pages/extension-pages';
import { launchWithExtension } from './support/browser';
import type { ExtensionBrowser } from './support/browser';
import { removeManagedPolicy, writeManagedPolicy } from './support/managed-policy';
import { startStack } from './support/stack';
import type { Stack } from './support/stack';

/** The admin policy the demo needs: both tools protected, the verifier named. */
export function demoPolicy(stack: Stack, extra: Partial<AdminPolicy> = {}): AdminPolicy {
  return {
    verifierUrl: stack.verifierUrl,
    protectedSites: ['http://127.0.0.1/*', 'http://localhost/*'],
    assistantAccounts: ['assistant'],
    approvalTtlSeconds: 120,
    ...extra,
  };
}

export const test = base.extend<{ stack: Stack; policy: Partial<AdminPolicy>; asPerson: boolean; browser: ExtensionBrowser }>({
  // Vitest reads a fixture's dependencies from its destructured first argument: `task` is none.
  stack: async ({ task: _task }, use) => {
    const stack = await startStack();
    await use(stack);
    await stack.close();
  },
  policy: {},
  asPerson: false,
  browser: async ({ stack, policy, asPerson }, use) => {
    writeManagedPolicy(demoPolicy(stack, policy));
    const browser = await launchWithExtension({ asPerson });
    // The admin policy reaches the extension asynchronously; pages opened before it has registered
    // its content scripts for the protected sites would not be protected yet.
    await waitForProtection(browser);
    try {
      await use(browser);
    } finally {
      await browser.close();
      removeManagedPolicy();
    }
  },
});

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

export { expect } from 'vitest';
