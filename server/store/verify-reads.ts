// The registry reads of one verify — the approving key, the agent's registration, the kills that
// cover the request — in one query instead of three when the token names them. Node only.
import * as postgresJson from 'kysely/helpers/postgres';
import * as sqliteJson from 'kysely/helpers/sqlite';
import type { ApprovalQuestion, EnrolledKey, KillCover } from '../../lib/protocol';
import type { DatabaseHandle } from '../db/connect';
import type { AgentTable, DeviceTable } from '../db/schema';
import { readPresented } from '../presented-token';
import { agentFromRow, agentLookup } from './agents';
import type { AgentEntry } from './agents';
import { enrolledKeys, keyLookup } from './devices';
import { coversRequest, killCover, killLookup } from './kills';

export interface VerifyReads {
  lookupKey(kid: string): Promise<EnrolledKey | undefined>;
  lookupAgent(agentId: string): Promise<AgentEntry | undefined>;
  killsCovering(q: ApprovalQuestion): Promise<KillCover[]>;
}

/** What a token says it is about, read before it is verified: only ever used as a lookup key. */
interface Named {
  agt: string;
  sub: string;
  aud: string;
}

interface Snapshot {
  kid: string;
  device: DeviceTable | undefined;
  agent: AgentTable | undefined;
  kills: KillCover[];
}

/**
 * Returns, per token, the reads its verify needs. The first lookupKey(kid) fetches the key's row,
 * the registration of the agent the token names and the kills covering the approver, agent and site
 * it names, in one round trip; the later lookups use that result when they ask about exactly those
 * (they do, once the claims verified, since they come from the same payload) and query on their
 * own otherwise. Everything is still read from the database during this verify: a revocation or a
 * kill committed before it started counts, on any replica. A token that fails the strict form
 * check reads nothing, as before.
 */
export function verifyReads(database: DatabaseHandle, toKey = enrolledKeys()): (token: unknown) => VerifyReads {
  const { db, prepare } = database;
  const json = database.dialect === 'postgres' ? postgresJson : sqliteJson;
  const single: VerifyReads = { lookupKey: keyLookup(database, toKey), lookupAgent: agentLookup(database), killsCovering: killLookup(database) };
  const select = prepare(['kid', 'agt', 'sub', 'site'], (q) =>
    db.selectNoFrom((eb) => [
      // Columns named, not selectAll(): SQLite's json_object needs them spelled out.
      json.jsonObjectFrom(eb.selectFrom('devices').select(['kid', 'device_id', 'user_id', 'label', 'public_jwk', 'created_at', 'revoked_at']).where('kid', '=', q.kid)).as('device'),
      json.jsonObjectFrom(eb.selectFrom('agents').select(['agent_id', 'owner', 'scopes', 'sites', 'updated_at']).where('agent_id', '=', q.agt)).as('agent'),
      json.jsonArrayFrom(eb.selectFrom('kills').select(['since', 'lifted_at']).where((k) => coversRequest(k, q))).as('kills'),
    ]),
  );

  return (token) => {
    const named = namedBy(token);
    if (!named) return single;
    let snapshot: Promise<Snapshot> | undefined;
    const covers = (q: ApprovalQuestion) => q.agt === named.agt && q.sub === named.sub && q.site === named.aud;
    return {
      async lookupKey(kid) {
        snapshot ??= select({ kid, agt: named.agt, sub: named.sub, site: named.aud }).then(([row]) => ({
          kid,
          device: parsed<DeviceTable>(row?.device),
          agent: parsed<AgentTable>(row?.agent),
          kills: (parsed<Array<{ since: number; lifted_at: number | null }>>(row?.kills) ?? []).map(killCover),
        }));
        const s = await snapshot;
        if (s.kid !== kid) return single.lookupKey(kid);
        return s.device ? toKey(s.device) : undefined;
      },
      async lookupAgent(agentId) {
        if (!snapshot || agentId !== named.agt) return single.lookupAgent(agentId);
        const { agent } = await snapshot;
        return agent ? agentFromRow(agent) : undefined;
      },
      async killsCovering(q) {
        if (!snapshot || !covers(q)) return single.killsCovering(q);
        return (await snapshot).kills;
      },
    };
  };
}

/** PostgreSQL hands JSON back parsed, SQLite as text. */
function parsed<T>(value: unknown): T | undefined {
  if (value === null || value === undefined) return undefined;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** The approver, agent and audience a token's payload names, if it is well enough formed to say. */
function namedBy(token: unknown): Named | undefined {
  const { agt, sub, aud } = readPresented(token).claims;
  return typeof agt === 'string' && typeof sub === 'string' && typeof aud === 'string' ? { agt, sub, aud } : undefined;
}
