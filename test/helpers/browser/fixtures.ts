// Vitest fixtures for browser tests: a running stack, admin policy, and Chromium with the extension.
// Each test gets its own; teardown always runs. Node only (browser tests).
import { test as base } from 'vitest';
import type { AdminPolicy } from '@/lib/protocol/index';
import { launchWithExtension } from './browser';
import type { ExtensionBrowser } from './browser';
import { removeManagedPolicy, writeManagedPolicy } from './managed-policy';
import { demoPolicy, enrollAs, waitForProtection } from './protection';
import { startStack } from './stack';
import type { Stack } from './stack';

// `policy` is laid over the demo's; one that needs the stack's free ports is a builder override:
// `test.override('policy', ({ stack }) => ({ protectedSites: [`${stack.forumUrl}/*`] }))`.
export const test = base.extend<{ stack: Stack; policy: Partial<AdminPolicy>; asPerson: boolean; awaitProtection: boolean; browser: ExtensionBrowser }>({
  // Vitest reads a fixture's dependencies from its destructured first argument: `task` is none.
  stack: async ({ task: _task }, use) => {
    const stack = await startStack();
    await use(stack);
    await stack.close();
  },
  policy: {},
  asPerson: false,
  /** Off for a policy that protects nothing: there is nothing to wait for. */
  awaitProtection: true,
  browser: async ({ stack, policy, asPerson, awaitProtection }, use) => {
    writeManagedPolicy(demoPolicy(stack, policy));
    const browser = await launchWithExtension({ asPerson });
    // The admin policy reaches the extension asynchronously; pages opened before it has registered
    // its content scripts for the protected sites would not be protected yet.
    if (awaitProtection) await waitForProtection(browser);
    try {
      await use(browser);
    } finally {
      await browser.close();
      removeManagedPolicy();
    }
  },
});

export { demoPolicy, enrollAs, waitForProtection };

export { expect } from 'vitest';
