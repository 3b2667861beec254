// The active Cedar policy set: stored versioned, the default until an admin replaces it. Node only.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { compilePolicy, defaultPolicyText } from '../policy/engine';
import type { PolicySet } from '../policy/engine';

export async function loadActivePolicy(db: Kysely<Database>): Promise<PolicySet> {
  const row = await db.selectFrom('policies').select('text').where('active', '=', 1).executeTakeFirst();
  return compilePolicy(row?.text ?? defaultPolicyText());
}

/** Compiles first (a bad policy never becomes active), then makes it the only active version. */
export async function replacePolicy(db: Kysely<Database>, text: string, now: number): Promise<PolicySet> {
  const policy = compilePolicy(text);
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('policies').set({ active: 0 }).where('active', '=', 1).execute();
    await trx
      .insertInto('policies')
      .values({ version: policy.version, text, created_at: now, active: 1 })
      .onConflict((oc) => oc.column('version').doUpdateSet({ active: 1 }))
      .execute();
  });
  return policy;
}
