// Writes and removes Countersign's admin policy in Chromium's managed-policy directory, keyed by
// the fixed extension id, as an administrator would. Node only (browser tests; needs root).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AdminPolicy } from '@/lib/protocol';
import { EXTENSION_ID } from '@/lib/extension-identity';

export const MANAGED_POLICY_DIR = process.env.CHROMIUM_POLICY_DIR ?? '/etc/chromium/policies/managed';
const FILE = join(MANAGED_POLICY_DIR, 'countersign-e2e.json');

/** Chromium reads this at start-up: write it before launching the browser. */
export function writeManagedPolicy(policy: AdminPolicy): void {
  mkdirSync(MANAGED_POLICY_DIR, { recursive: true });
  writeFileSync(FILE, JSON.stringify({ '3rdparty': { extensions: { [EXTENSION_ID]: policy } } }, null, 2));
}

export function removeManagedPolicy(): void {
  rmSync(FILE, { force: true });
}
