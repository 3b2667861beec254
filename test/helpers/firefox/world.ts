// One Firefox test file's world: the demo stack (verifier + Intraforum + Access console, as the
// Chromium tests run it), admin policy in policies.json, and one Firefox with the extension, started
// once for the file and torn down after it. Node only (Firefox browser tests).
import type { AdminPolicy } from '@/lib/protocol/index';
import { demoSitePolicy } from '../../../demo/adapters';
import { startStack } from '../browser/stack';
import type { Stack } from '../browser/stack';
import { FirefoxExtensionState } from './extension-state';
import { launchFirefoxWithExtension } from './firefox';
import type { FirefoxWithExtension } from './firefox';
import { writeFirefoxPolicy } from './policies';

/**
 * The demo's admin policy, the very one Chromium's tests push (test/helpers/browser/protection.ts's
 * demoPolicy, whose module needs Chrome's types): both tools protected by origin, ports named, their
 * adapters as the `adapters` JSON string, the verifier named.
 */
export function demoPolicy(stack: Stack, extra: Partial<AdminPolicy> = {}): AdminPolicy {
  return { verifierUrl: stack.verifierUrl, ...demoSitePolicy({ forum: stack.forumUrl, console: stack.consoleUrl }), assistantAccounts: ['assistant'], approvalTtlSeconds: 120, ...extra };
}

export interface FirefoxWorld {
  stack: Stack;
  firefox: FirefoxWithExtension;
  state: FirefoxExtensionState;
  close(): Promise<void>;
}

export interface FirefoxWorldOptions {
  /** The admin policy as policies.json carries it, from the demo's; may be wrong-typed on purpose. */
  policy?: (stack: Stack) => AdminPolicy | Record<string, unknown>;
  /** Off for a policy that protects nothing: there is nothing to wait for. */
  awaitProtection?: boolean;
}

export async function startFirefoxWorld(options: FirefoxWorldOptions = {}): Promise<FirefoxWorld> {
  const stack = await startStack();
  const restorePolicy = writeFirefoxPolicy((options.policy ?? ((s: Stack) => demoPolicy(s)))(stack));
  let firefox: FirefoxWithExtension | null = null;
  const close = async () => {
    await firefox?.close().catch(() => undefined);
    restorePolicy();
    await stack.close();
  };
  try {
    firefox = await launchFirefoxWithExtension();
    const state = new FirefoxExtensionState(firefox);
    // The admin policy reaches the extension asynchronously; a page opened before its scripts are registered is not protected yet.
    if (options.awaitProtection ?? true) await state.waitForProtection();
    return { stack, firefox, state, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A one-time enrollment code for `userId`, issued by the admin on the verifier. */
export async function enrollmentCode(stack: Stack, userId = 'alice'): Promise<string> {
  const { code } = (await (await stack.admin('POST', '/v1/admin/enrollment-codes', { userId })).json()) as { code: string };
  return code;
}
