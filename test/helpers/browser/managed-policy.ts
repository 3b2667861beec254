// Writes and removes Countersign's admin policy in Chromium's managed-policy directory, keyed by
// the fixed extension id, as an administrator would. Node only (browser tests; needs root).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AdminPolicy } from '@/lib/protocol/index';
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

/**
 * A first run has no managed policy for Countersign: every file in the managed directory that names
 * the extension (this suite's, or an admin's copy of `npm start`'s data/chromium-policy.json) is moved
 * out of Chromium's reach, beside the directory rather than into /tmp so that a run killed half-way
 * leaves them where an admin finds them. Returns what puts them back.
 */
export function setManagedPoliciesAside(): () => void {
  const aside = join(dirname(MANAGED_POLICY_DIR), 'countersign-set-aside');
  const moved: string[] = [];
  if (existsSync(MANAGED_POLICY_DIR)) {
    for (const name of readdirSync(MANAGED_POLICY_DIR)) {
      const file = join(MANAGED_POLICY_DIR, name);
      if (!statSync(file).isFile() || !readFileSync(file, 'utf8').includes(EXTENSION_ID)) continue;
      mkdirSync(aside, { recursive: true });
      renameSync(file, join(aside, name));
      moved.push(name);
    }
  }
  return () => {
    for (const name of moved) renameSync(join(aside, name), join(MANAGED_POLICY_DIR, name));
    // Only when empty: files an earlier, killed run set aside stay for an admin to see.
    if (moved.length && readdirSync(aside).length === 0) rmdirSync(aside);
  };
}

/** The managed-policy files that name Countersign's extension (none, on a first run). */
export function managedPoliciesNamingCountersign(): string[] {
  if (!existsSync(MANAGED_POLICY_DIR)) return [];
  return readdirSync(MANAGED_POLICY_DIR).filter((name) => {
    const file = join(MANAGED_POLICY_DIR, name);
    return statSync(file).isFile() && readFileSync(file, 'utf8').includes(EXTENSION_ID);
  });
}
