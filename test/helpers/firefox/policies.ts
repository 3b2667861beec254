// Writes and removes Countersign's admin policy in Firefox's enterprise policies.json, under
// `3rdparty` → `Extensions` → the gecko id (what the extension reads as storage.managed), as an
// administrator would. Firefox checks nothing against the managed schema. Node only (Firefox tests; needs root).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AdminPolicy } from '@/lib/protocol/index';
import { GECKO_ID } from '@/lib/extension-identity';
import { loadManagedSchema } from '../../../server/admin/managed-schema';
import { checkPolicy, renderTemplate } from '../../../server/admin/policy-templates';

/** Where Debian's firefox-esr (and Mozilla's Linux builds) read system-wide policy. */
export const FIREFOX_POLICIES_FILE = process.env.FIREFOX_POLICIES_FILE ?? '/etc/firefox/policies/policies.json';
const ASIDE = join(dirname(FIREFOX_POLICIES_FILE), 'policies.json.countersign-set-aside');

/** policies.json for this policy: the whole file, as an admin deploys it. */
export function firefoxPoliciesFile(policy: Record<string, unknown>): { policies: { '3rdparty': { Extensions: Record<string, Record<string, unknown>> } } } {
  return { policies: { '3rdparty': { Extensions: { [GECKO_ID]: policy } } } };
}

/**
 * Firefox reads the file at start-up: write it before launching. `policy` may hold values of the
 * wrong type on purpose (Firefox passes them through; the extension's own parse must refuse them).
 * One machine has one policies.json: an admin's own is set aside beside it and put back by the returned function.
 */
export function writeFirefoxPolicy(policy: AdminPolicy | Record<string, unknown>): () => void {
  return writePoliciesFile(firefoxPoliciesFile(policy as Record<string, unknown>));
}

/**
 * The admin's own route: policies.json as `npm run admin -- policy-template firefox` generates it from
 * the managed schema (server/admin/policy-templates.ts), written as is (plus this suite's marker).
 */
export function writeGeneratedFirefoxPolicy(policy: AdminPolicy): () => void {
  const checked = checkPolicy(loadManagedSchema(), policy);
  if (!checked.ok) throw new Error(`the policy template refused the policy: ${checked.problems.join('; ')}`);
  return writePoliciesFile(JSON.parse(renderTemplate('firefox', checked.policy).text) as Record<string, unknown>);
}

/** Writes a whole policies.json as given (e.g. one `policy-template firefox` wrote); returns what removes it. */
export function writePoliciesFile(file: Record<string, unknown>): () => void {
  mkdirSync(dirname(FIREFOX_POLICIES_FILE), { recursive: true });
  const hadOwn = existsSync(FIREFOX_POLICIES_FILE) && !readFileSync(FIREFOX_POLICIES_FILE, 'utf8').includes('"countersign-e2e"');
  if (hadOwn) renameSync(FIREFOX_POLICIES_FILE, ASIDE);
  // The marker key lets a later run tell this suite's file from an admin's; Firefox ignores unknown top-level keys.
  writeFileSync(FIREFOX_POLICIES_FILE, JSON.stringify({ ...file, 'countersign-e2e': true }, null, 2));
  return () => {
    rmSync(FIREFOX_POLICIES_FILE, { force: true });
    if (hadOwn) renameSync(ASIDE, FIREFOX_POLICIES_FILE);
  };
}
