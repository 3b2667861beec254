// The organisation's extension policy: versioned documents, the newest in force. Node only.
import type { Kysely } from 'kysely';
import type { OrganisationPolicyVersion } from '../../lib/protocol';
import { OrganisationPolicy } from '../../lib/protocol';
import type { Database } from '../db/schema';

/** The policy in force; version 0 and an empty policy before an admin set one. */
export async function currentOrganisationPolicy(db: Kysely<Database>): Promise<OrganisationPolicyVersion> {
  const row = await db.selectFrom('organisation_policies').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
  if (!row) return { version: 0, policy: {}, updatedAt: null };
  return { version: Number(row.version), policy: OrganisationPolicy.parse(JSON.parse(row.document)), updatedAt: row.created_at };
}

/**
 * Stores a new version (already validated by the route's schema). Two admins racing get two
 * versions, never one overwritten: the primary key refuses the second insert of a number, which is
 * retried with the next.
 */
export async function setOrganisationPolicy(db: Kysely<Database>, policy: OrganisationPolicy, now: number): Promise<OrganisationPolicyVersion> {
  for (let attempt = 0; ; attempt++) {
    const { version } = await currentOrganisationPolicy(db);
    try {
      await db.insertInto('organisation_policies').values({ version: version + 1, document: JSON.stringify(policy), created_at: now }).execute();
      return { version: version + 1, policy, updatedAt: now };
    } catch (error) {
      if (attempt >= 4) throw error;
    }
  }
}
