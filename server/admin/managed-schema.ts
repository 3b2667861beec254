// Reads and checks public/managed_schema.json, the one schema every policy template is written from. Node only.
import { readFileSync } from 'node:fs';
import { ManagedSchema } from './policy-templates';

export const MANAGED_SCHEMA_FILE = new URL('../../public/managed_schema.json', import.meta.url);

/** The extension's managed-storage schema; throws, naming the key, when a writer could not write it. */
export function loadManagedSchema(file: URL | string = MANAGED_SCHEMA_FILE): ManagedSchema {
  const parsed = ManagedSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`public/managed_schema.json: ${issue.path.map(String).join('.')}: ${issue.message} (the policy templates cannot write it)`);
  }
  return parsed.data;
}
