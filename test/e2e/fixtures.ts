// Vitest fixtures for browser tests: a running stack, admin policy, and Chromium with the extension.
// Each test gets its own; teardown always runs. Node only (browser tests).
import { test as base } from 'vitest';
import type { AdminPolicy } from '@/lib/protocol';
import { launchWithExtension } from './support/browser';
import type { ExtensionBrowser } from './support/browser';
import { removeManagedPolicy, writeManagedPolicy } from './support/managed-policy';
import { demoPolicy, enrollAs, waitForProtection } from './support/protection';
import { startStack } from './support/stack';
import type { Stack } from './support/stack';

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

export { demoPolicy, enrollAs, waitForProtection };

export { expect } from 'vitest';
