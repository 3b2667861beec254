// The agent registry: agent id → owner, scopes, sites. Node only.
import type { Kysely } from 'kysely';
import type { AgentRegistration } from '../../lib/protocol';
import type { DatabaseHandle } from '../db/connect';
import type { AgentTable, Database } from '../db/schema';

export interface AgentEntry {
  id: string;
  owner: string;
  scopes: string[];
  sites: string[];
}

export async function putAgent(db: Kysely<Database>, agentId: string, registration: AgentRegistration, now: number): Promise<AgentEntry> {
  const row = { owner: registration.owner, scopes: JSON.stringify(registration.scopes), sites: JSON.stringify(registration.sites), updated_at: now };
  await db
    .insertInto('agents')
    .values({ agent_id: agentId, ...row })
    .onConflict((oc) => oc.column('agent_id').doUpdateSet(row))
    .execute();
  return { id: agentId, ...registration };
}

/** The registry entry of an agent, by exact id; read from the database on every call. */
export function agentLookup({ db, prepare }: DatabaseHandle): (agentId: string) => Promise<AgentEntry | undefined> {
  const select = prepare(['agentId'], ({ agentId }) => db.selectFrom('agents').selectAll().where('agent_id', '=', agentId));
  return async (agentId) => {
    const [row] = await select({ agentId });
    return row ? agentFromRow(row) : undefined;
  };
}

export function agentFromRow(row: AgentTable): AgentEntry {
  return { id: row.agent_id, owner: row.owner, scopes: JSON.parse(row.scopes) as string[], sites: JSON.parse(row.sites) as string[] };
}
