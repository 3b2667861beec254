// Held actions in the background: a content script's proposal becomes a persisted, logged record
// before anything else; the tab's report, expiry and closed tabs end it in a logged terminal state,
// each move as held-action-states.ts lists it. Background only.
import type { ActionSpec, SiteAdapter } from '../protocol';
import { actionDigest, matchesAny, newTraceId } from '../protocol';
import type { PendingActionRow } from './db';
import { db } from './db';
import { eventFields } from './approvals';
import { nextState, transition } from './held-action-states';
import type { ActionEvent } from './held-action-states';
import type { EffectivePolicy, PolicyView } from '../policy/effective-policy';
import { appendLog, logTables } from './log';
import { proposalMismatch } from './proposal-check';
import type { ProposalInput } from '../messaging/contract';
import { ExtensionError } from '../messaging/errors';
import { requestAction, siteConfig } from '../policy/site-adapters';

/**
 * The agent an assistant's action is: the agent a marker header names, only when it is an agent id
 * the policy knows (assistantAccounts, or the adapter's `agent`), so a page cannot pass its action
 * off as another agent's; else the adapter's agent, else `agent:unknown`.
 */
export function proposingAgent(hint: string | null, adapter: SiteAdapter | null, policy: Pick<EffectivePolicy, 'assistantAccounts'>): string {
  if (hint !== null && (hint === adapter?.agent || policy.assistantAccounts.includes(hint))) return hint;
  return adapter?.agent ?? 'agent:unknown';
}

export interface ProposalContext {
  view: PolicyView;
  /** The page the proposal came from (sender.url, stamped by the browser) and its tab. */
  pageUrl: string;
  tabId: number;
  userId: string | null;
  now: number;
}

/**
 * Persists a proposal as a held action (or a blocked one), logging `proposed` and the outcome in the
 * same transaction. Site, tab, owner, agent and the adapter action (its scope) come from the browser,
 * the policy and the request itself, never from what the page says: a page can only say what it
 * tried to send.
 */
export async function proposeAction(input: ProposalInput, ctx: ProposalContext): Promise<PendingActionRow> {
  const site = new URL(ctx.pageUrl).origin;
  let requestUrl: URL;
  try {
    requestUrl = new URL(input.request.url);
  } catch {
    throw new ExtensionError('payload_invalid', 'a held request needs an absolute URL');
  }
  if (requestUrl.origin !== site) throw new ExtensionError('payload_invalid', 'a held request must go to the page\'s own origin');
  const config = siteConfig(ctx.view, ctx.pageUrl);
  if (!config.protected) throw new ExtensionError('not_protected', 'this site is not protected by policy');
  const adapter = config.adapter;
  const found = requestAction(adapter, input.request.method, requestUrl);
  if (!found.ok) throw new ExtensionError('action_unknown', `Countersign cannot hold this request: ${found.reason}.`);
  const action = found.action;
  // What the owner will review must be what the token binds (E-05): text and diff come from the body.
  const mismatch = proposalMismatch(input, action);
  if (mismatch) throw new ExtensionError('payload_invalid', mismatch);

  const assistant = input.signals.length > 0;
  // An assistant's action is its agent's; a person's own change on an "always" route is theirs.
  const agent = assistant ? proposingAgent(input.agentHint, adapter, ctx.view.policy) : ctx.userId ? `user:${ctx.userId}` : 'user:unknown';
  const spec: ActionSpec = {
    trc: newTraceId(),
    tool: adapter?.id ?? 'generic',
    scope: action?.scope ?? 'generic.write',
    agent,
    request: input.request,
    content: input.content,
    diff: input.diff,
    signals: input.signals,
  };
  let digest: string;
  try {
    digest = await actionDigest(spec.request);
  } catch (error) {
    throw new ExtensionError('payload_invalid', (error as Error).message);
  }
  const blocked = assistant && (matchesAny(ctx.view.policy.blockedSites, ctx.pageUrl) || matchesAny(ctx.view.policy.blockedSites, requestUrl));
  const row: PendingActionRow = {
    id: crypto.randomUUID(),
    state: transition('new', blocked ? 'block' : 'propose'),
    spec,
    digest,
    site,
    tabId: ctx.tabId,
    createdAt: ctx.now,
    expiresAt: ctx.now + ctx.view.policy.approvalTtlSeconds * 1000,
    token: null,
    reason: blocked ? 'assistant actions are blocked on this site' : null,
    updatedAt: ctx.now,
    ...(input.proposalId ? { proposalId: input.proposalId } : {}),
    ...(action?.content ? { contentField: action.content } : {}),
  };
  return db().transaction('rw', logTables(db().actions), async () => {
    // The page re-sends a proposal whose answer was lost (the worker stopped after persisting it):
    // the same submission from the same tab is the action already held, never a second one (S-02).
    const again = input.proposalId ? (await db().actions.where('tabId').equals(ctx.tabId).toArray()).find((r) => r.proposalId === input.proposalId) : undefined;
    if (again) {
      if (again.digest !== digest) throw new ExtensionError('payload_invalid', 'a re-sent proposal must be the same request');
      return again;
    }
    await db().actions.add(row);
    await appendLog(eventFields(row, 'proposed', { kind: input.kind, signals: input.signals.join(',') }, ctx.userId, ctx.now));
    await appendLog(eventFields(row, row.state, null, ctx.userId, ctx.now));
    return row;
  });
}

/** The events that end an action without the owner's answer (approve and reject are approvals.ts's). */
export type EndEvent = Extract<ActionEvent, 'release' | 'refuse' | 'expire' | 'lapse' | 'fail' | 'navigate'>;

/** What a move may change on the row beside its state (the tokens a quorum brought, who approved, the published proposal…). */
export type RowPatch = Partial<Pick<PendingActionRow, 'token' | 'tokens' | 'approvers' | 'quorum' | 'bot' | 'published' | 'expiresAt' | 'reason'>>;

/**
 * Moves an action as `event` does (held-action-states.ts), logged in the same transaction; a no-op
 * when the table has no such move from the state it is in (it ended already, or a release of an
 * action never approved). Returns the updated row, or null when nothing changed.
 */
export async function endAction(actionId: string, event: EndEvent, detail: Record<string, string | number> | null, now: number): Promise<PendingActionRow | null> {
  return moveAction(actionId, event, {}, detail, now);
}

/** Like endAction, for any event, with what the move changes on the row beside its state. */
export async function moveAction(actionId: string, event: ActionEvent, patch: RowPatch, detail: Record<string, string | number> | null, now: number): Promise<PendingActionRow | null> {
  const userId = (await db().enrollment.get('current'))?.userId ?? null;
  return db().transaction('rw', logTables(db().actions), async () => {
    const row = await db().actions.get(actionId);
    const state = row ? nextState(row.state, event) : null;
    if (!row || !state) return null;
    const updated: PendingActionRow = { ...row, ...patch, state, reason: detail?.reason ? String(detail.reason) : (patch.reason ?? row.reason), updatedAt: now };
    await db().actions.put(updated);
    await appendLog(eventFields(updated, state, detail, userId, now));
    return updated;
  });
}

/** Changes what a row records without moving it (its plan, the proposal it was published as); null when it is no longer in `state`. */
export async function noteOnAction(actionId: string, state: PendingActionRow['state'], patch: RowPatch): Promise<PendingActionRow | null> {
  return db().transaction('rw', db().actions, async () => {
    const row = await db().actions.get(actionId);
    if (!row || row.state !== state) return null;
    const updated: PendingActionRow = { ...row, ...patch };
    await db().actions.put(updated);
    return updated;
  });
}

/**
 * Ends what can no longer complete: held (or awaiting more approvers) past its TTL → expired; approved but never released
 * before the approval itself ran out → failed. Returns the actions it ended.
 */
export async function sweepExpired(now: number, approvalTtlSeconds: number): Promise<PendingActionRow[]> {
  const ended: PendingActionRow[] = [];
  for (const row of await db().actions.where('state').anyOf('held', 'awaiting', 'approved').toArray()) {
    if (row.state === 'held' && now >= row.expiresAt) {
      const done = await endAction(row.id, 'expire', { reason: 'not approved within its time to live' }, now);
      if (done) ended.push(done);
    } else if (row.state === 'awaiting' && now >= row.expiresAt) {
      const more = (row.quorum ?? 2) - (row.approvers?.length ?? 1);
      const done = await endAction(row.id, 'expire', { reason: `not approved by ${more} more approver${more === 1 ? '' : 's'} within its time to live (policy requires ${row.quorum ?? 2})` }, now);
      if (done) ended.push(done);
    } else if (row.state === 'approved' && now >= row.updatedAt + approvalTtlSeconds * 1000) {
      const done = await endAction(row.id, 'lapse', { reason: 'approved but never released before the approval expired' }, now);
      if (done) ended.push(done);
    }
  }
  return ended;
}

/**
 * A tab closed (`fail`: what it held can never be released) or its page went away (`navigate`: only
 * what still waited for approval goes with it).
 */
export async function failActionsOfTab(tabId: number, reason: string, now: number, event: 'fail' | 'navigate' = 'fail'): Promise<PendingActionRow[]> {
  const ended: PendingActionRow[] = [];
  for (const row of await db().actions.where('tabId').equals(tabId).toArray()) {
    if (!nextState(row.state, event)) continue;
    const done = await endAction(row.id, event, { reason }, now);
    if (done) ended.push(done);
  }
  return ended;
}

export function pendingCount(): Promise<number> {
  return db().actions.where('state').equals('held').count();
}
