// Agent proposals in the database (DESIGN.md, "Agent proposals"): the row and who may approve it,
// the one conditional update that decides it (the first decision wins, on any replica), expiry, and
// a decision record for every step under the proposal's trace id, written in the same transaction as
// the step. Never logs a token. Node only.
import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import { ActionRequest, PROPOSAL_LIMITS, newTraceId, randomBase64url } from '../../lib/protocol';
import type { DecisionRecord, PendingProposal, ProposalState } from '../../lib/protocol';
import type { DatabaseHandle } from '../db/connect';
import type { Database, ProposalTable } from '../db/schema';
import { decisionRow } from './decisions/records';
import type { DecisionFacts } from './decisions/records';

export type ProposalRow = ProposalTable;

/** One step of a proposal's life as a decision record (its trace id, agent, digest; the person who acted, if any). */
export function stepFacts(row: Pick<ProposalRow, 'trace_id' | 'agent_id' | 'digest'>, code: DecisionRecord['code'], policyVersion: string, approver: string | null = null, kid: string | null = null): DecisionFacts {
  return { code, traceId: row.trace_id, agent: row.agent_id, approver, digest: row.digest, policyVersion, kid };
}

export async function recordStep(db: Kysely<Database> | Transaction<Database>, facts: DecisionFacts, now: number): Promise<void> {
  await db.insertInto('decisions').values(decisionRow(facts, now)).execute();
}

/**
 * Runs `work` in a transaction in which no other proposal can be made: the per-agent and
 * per-approver limits are counted and the new row written without another replica's creation in
 * between (PostgreSQL: a table lock that only proposal creations take; SQLite: one writer).
 */
export async function withCreationLock<T>(database: DatabaseHandle, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return database.db.transaction().execute(async (trx) => {
    if (database.dialect === 'postgres') await sql`LOCK TABLE proposals IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
    return work(trx);
  });
}

/** Proposals this agent made since `since` (ms): the per-agent rate limit. */
export async function proposalsMadeSince(trx: Transaction<Database>, agentId: string, since: number): Promise<number> {
  const row = await trx.selectFrom('proposals').select((eb) => eb.fn.countAll<number>().as('n')).where('agent_id', '=', agentId).where('created_at', '>', since).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** How many unexpired pending proposals wait for each of these users. */
export async function pendingCounts(trx: Transaction<Database>, userIds: readonly string[], now: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (userIds.length === 0) return counts;
  const rows = await trx
    .selectFrom('proposal_approvers as a')
    .crossJoin('proposals as p')
    .whereRef('p.id', '=', 'a.proposal_id')
    .select((eb) => ['a.user_id', eb.fn.countAll<number>().as('n')])
    .where('a.user_id', 'in', [...userIds])
    .where('p.state', '=', 'pending')
    .where('p.expires_at', '>', now)
    .groupBy('a.user_id')
    .execute();
  for (const r of rows) counts.set(r.user_id, Number(r.n));
  return counts;
}

/** Those of `userIds` who have room for one more pending proposal (fewer than 20 waiting). */
export async function withRoom(trx: Transaction<Database>, userIds: readonly string[], now: number): Promise<string[]> {
  const counts = await pendingCounts(trx, userIds, now);
  return userIds.filter((u) => (counts.get(u) ?? 0) < PROPOSAL_LIMITS.pendingPerApprover);
}

/** A new pending proposal's row: a fresh id and trace id, nothing decided yet. */
export function pendingRow(fields: {
  agentId: string;
  keyId: string;
  scope: string;
  summary: string;
  request: ActionRequest;
  contentField: string | null;
  digest: string;
  site: string;
  createdAt: number;
  expiresAt: number;
  /** Distinct approvers it needs (default 1). */
  quorum?: number;
  /** The action's trace id when it has one already (a held action's, a bot token's); else a fresh one. */
  traceId?: string;
  /** A held in-page action published by its first approver: that user and device. */
  publishedBy?: { userId: string; deviceId: string };
}): ProposalRow {
  return {
    id: `prp_${randomBase64url(16)}`,
    agent_id: fields.agentId,
    key_id: fields.keyId,
    scope: fields.scope,
    summary: fields.summary,
    request: JSON.stringify(fields.request),
    content_field: fields.contentField,
    digest: fields.digest,
    site: fields.site,
    trace_id: fields.traceId ?? newTraceId(),
    state: 'pending',
    token: null,
    reason: null,
    decided_by: null,
    created_at: fields.createdAt,
    expires_at: fields.expiresAt,
    decided_at: null,
    handed_out_at: null,
    quorum: fields.quorum ?? 1,
    published_by: fields.publishedBy?.userId ?? null,
    publisher_device: fields.publishedBy?.deviceId ?? null,
  };
}

export async function insertProposal(trx: Transaction<Database>, row: ProposalRow, approvers: readonly string[]): Promise<void> {
  await trx.insertInto('proposals').values(row).execute();
  if (approvers.length > 0) await trx.insertInto('proposal_approvers').values(approvers.map((user_id) => ({ proposal_id: row.id, user_id }))).execute();
}

export async function proposalById(db: Kysely<Database>, id: string): Promise<ProposalRow | undefined> {
  return db.selectFrom('proposals').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Records why an agent's wait on its proposal ended early (its key revoked mid-wait) under the
 * proposal's trace; the trace id, or undefined when the proposal is not that agent's.
 */
export async function recordWaitEnded(db: Kysely<Database>, id: string, agentId: string, code: DecisionRecord['code'], policyVersion: string, now: number): Promise<string | undefined> {
  const row = await proposalById(db, id);
  if (!row || row.agent_id !== agentId) return undefined;
  await recordStep(db, stepFacts(row, code, policyVersion), now);
  return row.trace_id;
}

export async function isApprover(db: Kysely<Database>, id: string, userId: string): Promise<boolean> {
  return (await db.selectFrom('proposal_approvers').select('user_id').where('proposal_id', '=', id).where('user_id', '=', userId).executeTakeFirst()) !== undefined;
}

/** The unexpired pending proposals this user may approve and has not approved yet, oldest first. */
export async function pendingFor(db: Kysely<Database>, userId: string, now: number, limit: number): Promise<PendingView[]> {
  // From the approver's rows to their proposals, in that order (a CROSS JOIN is never reordered by
  // SQLite): its planner would otherwise start from every pending proposal of every approver, a cost
  // that grows with the whole table instead of with this approver's few (bench/growth.ts).
  const rows = await db
    .selectFrom('proposal_approvers as a')
    .crossJoin('proposals as p')
    .whereRef('p.id', '=', 'a.proposal_id')
    .selectAll('p')
    .where('a.user_id', '=', userId)
    .where('p.state', '=', 'pending')
    .where('p.expires_at', '>', now)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('proposal_approvals as v').select('v.user_id').whereRef('v.proposal_id', '=', 'p.id').where('v.user_id', '=', userId))),
    )
    .orderBy('p.created_at')
    .orderBy('p.id')
    .limit(limit)
    .execute();
  const approvals = await approvalsOf(db, rows.map((r) => r.id));
  return rows.map((row) => pendingView(row, approvals.get(row.id) ?? []));
}

export interface ApprovalRow {
  user_id: string;
  device_id: string;
  kid: string;
  token: string;
  approved_at: number;
}

/** Each proposal's approvals so far, oldest first. */
export async function approvalsOf(db: Kysely<Database> | Transaction<Database>, ids: readonly string[]): Promise<Map<string, ApprovalRow[]>> {
  const out = new Map<string, ApprovalRow[]>();
  if (ids.length === 0) return out;
  const rows = await db
    .selectFrom('proposal_approvals')
    .select(['proposal_id', 'user_id', 'device_id', 'kid', 'token', 'approved_at'])
    .where('proposal_id', 'in', [...ids])
    .orderBy('approved_at')
    .orderBy('user_id')
    .execute();
  for (const r of rows) {
    const list = out.get(r.proposal_id) ?? [];
    list.push({ user_id: r.user_id, device_id: r.device_id, kid: r.kid, token: r.token, approved_at: Number(r.approved_at) });
    out.set(r.proposal_id, list);
  }
  return out;
}

/** A pending proposal as listed, but for what the policy in force asks of its approvals (the caller adds `presence`). */
export type PendingView = Omit<PendingProposal, 'presence'>;

export function pendingView(row: ProposalRow, approvals: readonly ApprovalRow[] = []): PendingView {
  return {
    id: row.id,
    agent: row.agent_id,
    scope: row.scope,
    summary: row.summary,
    request: ActionRequest.parse(JSON.parse(row.request)),
    ...(row.content_field !== null ? { contentField: row.content_field } : {}),
    digest: row.digest,
    traceId: row.trace_id,
    createdAt: Math.floor(Number(row.created_at) / 1000),
    expiresAt: Math.floor(Number(row.expires_at) / 1000),
    quorum: Number(row.quorum),
    approvals: approvals.map((a) => ({ approver: a.user_id, at: Math.floor(a.approved_at / 1000) })),
    ...(row.published_by !== null ? { publishedBy: row.published_by } : {}),
  };
}

export type Decided = { state: 'approved'; token: string; approver: string } | { state: 'rejected'; reason: string; approver: string };

/** What one approval did: met the quorum, was counted towards it, or came too late / twice. */
export type ApprovalOutcome = 'approved' | 'counted' | 'not_pending' | 'already_approved';

/**
 * Adds one person's approval to a pending, unexpired proposal, and approves it when the distinct
 * approvals reach its quorum — in one transaction that holds the proposal's row (PostgreSQL: FOR
 * UPDATE), so two approvals arriving together are counted one after the other, on any replica. One
 * approval per person and per device key (unique keys). Each step is recorded (`facts`), and
 * `approved` once more when the quorum is met.
 */
export async function recordApproval(
  database: DatabaseHandle,
  row: ProposalRow,
  approval: Omit<ApprovalRow, 'approved_at'>,
  facts: DecisionFacts,
  now: number,
): Promise<ApprovalOutcome> {
  return database.db.transaction().execute(async (trx) => {
    let locked = trx.selectFrom('proposals').select(['state', 'expires_at', 'quorum']).where('id', '=', row.id);
    if (database.dialect === 'postgres') locked = locked.forUpdate();
    const current = await locked.executeTakeFirst();
    if (!current || current.state !== 'pending' || Number(current.expires_at) <= now) return 'not_pending';
    const inserted = await trx
      .insertInto('proposal_approvals')
      .values({ proposal_id: row.id, ...approval, approved_at: now })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return 'already_approved';
    const approvals = (await approvalsOf(trx, [row.id])).get(row.id) ?? [];
    if (approvals.length < Number(current.quorum)) {
      await recordStep(trx, { ...facts, code: 'approval_counted' }, now);
      return 'counted';
    }
    await trx
      .updateTable('proposals')
      .set({ state: 'approved', token: approvals[0]!.token, decided_by: approval.user_id, decided_at: now })
      .where('id', '=', row.id)
      .execute();
    await recordStep(trx, facts, now);
    return 'approved';
  });
}

/**
 * A proposal a policy bot approved the moment it was made (in the creation's transaction): its
 * token kept as the one approval, the step recorded with the rule that allowed it.
 */
export async function approveAtOnce(trx: Transaction<Database>, row: ProposalRow, approval: Omit<ApprovalRow, 'approved_at'>, facts: DecisionFacts, now: number): Promise<void> {
  await trx.insertInto('proposal_approvals').values({ proposal_id: row.id, ...approval, approved_at: now }).execute();
  await trx.updateTable('proposals').set({ state: 'approved', token: approval.token, decided_by: approval.user_id, decided_at: now }).where('id', '=', row.id).execute();
  await recordStep(trx, facts, now);
}

/**
 * Rejects a pending, unexpired proposal and records the step, in one transaction; false when it
 * was no longer pending (another decision won, or it expired).
 */
export async function rejectProposal(db: Kysely<Database>, row: ProposalRow, decided: Extract<Decided, { state: 'rejected' }>, facts: DecisionFacts, now: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('proposals')
      .set({
        state: decided.state,
        reason: decided.reason,
        decided_by: decided.approver,
        decided_at: now,
      })
      .where('id', '=', row.id)
      .where('state', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await recordStep(trx, facts, now);
    return true;
  });
}

/** Records the first time the agent was handed the token (later fetches are the same hand-out). */
export async function markHandedOut(db: Kysely<Database>, row: ProposalRow, facts: DecisionFacts, now: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const result = await trx.updateTable('proposals').set({ handed_out_at: now }).where('id', '=', row.id).where('handed_out_at', 'is', null).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) await recordStep(trx, facts, now);
  });
}

/**
 * Every pending proposal past its expiry becomes `expired`, each with its decision record, in one
 * transaction; returns the ids it expired. Run before any read, and by the verifier's sweep, so a
 * proposal ends in a logged terminal state even if nobody asks again.
 */
export async function expireDue(db: Kysely<Database>, now: number, policyVersion: string): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .updateTable('proposals')
      .set({ state: 'expired', decided_at: now })
      .where('state', '=', 'pending')
      .where('expires_at', '<=', now)
      .returning(['id', 'trace_id', 'agent_id', 'digest'])
      .execute();
    for (const row of due) await recordStep(trx, stepFacts(row, 'expired', policyVersion), now);
    return due.map((r) => r.id);
  });
}

export function stateOf(row: ProposalRow): ProposalState {
  return row.state as ProposalState;
}

/** The held action this user's device already published under this trace id (a retried publication finds it). */
export async function publishedByTrace(db: Kysely<Database>, traceId: string, userId: string): Promise<ProposalRow | undefined> {
  return db.selectFrom('proposals').selectAll().where('trace_id', '=', traceId).where('published_by', '=', userId).orderBy('created_at', 'desc').executeTakeFirst();
}
