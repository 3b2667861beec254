// The demo's admin policy, as Chromium's and Firefox's browser tests (and bench/) push it; free of any
// browser's types. Node only (browser tests, bench).
import type { AdminPolicy } from '@/lib/protocol/index';
import { demoSitePolicy } from '../../../demo/adapters';
import type { Stack } from './stack';

/**
 * The admin policy the demo needs, as an admin pushes it for any tool: both tools protected by their
 * origins (ports named) and their site adapters as the `adapters` JSON string — the extension ships
 * none —, the verifier named.
 */
export function demoPolicy(stack: Stack, extra: Partial<AdminPolicy> = {}): AdminPolicy {
  return {
    verifierUrl: stack.verifierUrl,
    ...demoSitePolicy({ forum: stack.forumUrl, console: stack.consoleUrl }),
    assistantAccounts: ['assistant'],
    approvalTtlSeconds: 120,
    ...extra,
  };
}
