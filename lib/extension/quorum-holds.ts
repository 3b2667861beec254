// In-page holds under the two-person rule (DESIGN.md, "Policy bots, quorum, batch review"): an action
// its owner approved while policy requires more approvers awaits them. Her extension publishes it on
// the verifier with her token (`POST /v1/proposals/held`), so the others see it in their own popups,
// and asks its status (`GET /v1/proposals/{id}?wait=`, this device's proof) until it is approved (every
// token handed over: released with them all), rejected, or expired; each move logged in the device
// chain. The verifier is the source of truth; the row is what this browser knows. Background only.
import type { ProposalCreated, ProposalStatus } from '../protocol';
import type { PendingActionRow } from './db';
import { db } from './db';
import { proposalStatus, publishHeldAction } from './agent-proposals-client';
import type { Authorize, VerifierAnswer } from './agent-proposals-client';
import { currentEnrollment } from './enrollment';
import { verifierUrl } from './features/verifier';
import { moveAction, noteOnAction } from './held-actions';
import type { RowPatch } from './held-actions';
import type { ActionEvent } from './held-action-states';
import { deviceAuthorization } from './receipt-lookup';

/** The longest one status request waits for a change (s): under the verifier's limit and a worker's idle time. */
export const LONG_POLL_SECONDS = 20;
/** Between rounds that could not wait on the verifier (not published yet, no answer, a refusal): ms. */
const RETRY_MS = 3000;

export interface QuorumDeps {
  verifier?: string | null;
  authorize?: Authorize;
  fetchFn?: typeof fetch;
  now?: () => number;
}

/** What the answer about a published held action does to the row: a move, or nothing yet. */
export type AwaitingMove = { event: Extract<ActionEvent, 'quorum' | 'reject' | 'expire' | 'fail'>; patch: RowPatch; detail: Record<string, string | number> } | null;

/**
 * The move a status answer is, pure. Approved: every token, in order, and who approved — released only
 * when the owner's own token is among them and there are as many as policy requires. Rejected: with the
 * other approver's reason. Expired: nobody else approved in time. A refusal that cannot change by asking
 * again (the verifier lost it, a kill switch covers it) fails it; no answer leaves it as it is.
 */
export function awaitingMove(row: Pick<PendingActionRow, 'token' | 'quorum' | 'published'>, answer: VerifierAnswer<ProposalStatus>): AwaitingMove {
  if (!answer.ok) {
    if (answer.unreachable) return null;
    if (answer.code === 'kill_switch_engaged') return { event: 'fail', patch: {}, detail: { reason: `a kill switch covers it: ${answer.message}` } };
    if (answer.code === 'not_found') return { event: 'fail', patch: {}, detail: { reason: 'the verifier no longer knows its publication' } };
    return null;
  }
  const status = answer.value;
  const proposal = row.published ?? status.id;
  if (status.state === 'pending') return null;
  if (status.state === 'rejected') return { event: 'reject', patch: {}, detail: { proposal, reason: `Rejected by another approver${status.reason ? `: ${status.reason}` : '.'}` } };
  if (status.state === 'expired') return { event: 'expire', patch: {}, detail: { proposal, reason: 'not approved by enough people within its time to live' } };
  const tokens = status.tokens ?? (status.token ? [status.token] : []);
  const approvers = status.approvers ?? [];
  if (!row.token || !tokens.includes(row.token) || tokens.length < (row.quorum ?? 1)) {
    return { event: 'fail', patch: {}, detail: { proposal, reason: 'the verifier handed over approvals that are not this action\'s quorum: nothing is released' } };
  }
  return { event: 'quorum', patch: { tokens, approvers }, detail: { proposal, approvers: approvers.join(','), tokens: tokens.length } };
}

async function verifierOf(deps: QuorumDeps): Promise<string | null> {
  if (deps.verifier !== undefined) return deps.verifier;
  return (await currentEnrollment()) ? verifierUrl() : null;
}

/** What the other approvers read as its summary: the agent, the request and whose browser holds it (plain text). */
export function publicationSummary(row: Pick<PendingActionRow, 'spec' | 'site'>, owner: string): string {
  let target = row.spec.request.url;
  try {
    const u = new URL(row.spec.request.url);
    target = `${u.pathname}${u.search}`;
  } catch {
    // shown as sent
  }
  return `${row.spec.agent} wants to ${row.spec.scope} on ${row.site} (${row.spec.request.method} ${target}); held in ${owner}'s browser, approved by ${owner}.`.slice(0, 500);
}

/**
 * Publishes an awaiting action with its owner's token. Published: the proposal's id kept on the row
 * (its time to live no longer than the publication's). Refused: it ends failed, saying why (nobody
 * else may approve it, say). No answer: left to the next round.
 */
export async function publishAwaiting(row: PendingActionRow, deps: QuorumDeps = {}): Promise<PendingActionRow | null> {
  const verifier = await verifierOf(deps);
  const enrollment = await currentEnrollment();
  if (!verifier || !enrollment || !row.token || row.state !== 'awaiting' || row.published) return null;
  const now = deps.now ?? Date.now;
  const answer: VerifierAnswer<ProposalCreated> = await publishHeldAction(
    verifier,
    { request: row.spec.request, scope: row.spec.scope, summary: publicationSummary(row, enrollment.userId), ...(row.contentField ? { contentField: row.contentField } : {}), approve: row.token },
    deps.authorize ?? deviceAuthorization,
    deps.fetchFn ?? fetch,
  );
  if (answer.ok) {
    return noteOnAction(row.id, 'awaiting', { published: answer.value.id, expiresAt: Math.min(row.expiresAt, answer.value.expiresAt * 1000), ...(answer.value.quorum ? { quorum: answer.value.quorum } : {}) });
  }
  if (answer.unreachable) return null;
  return moveAction(row.id, 'fail', {}, { reason: `the verifier refused to publish it for the other approvers: ${answer.code} (${answer.message})` }, now());
}

/** One look at an awaiting action: published first if it is not yet; else its status, waiting up to `waitSeconds`. Returns the moved row, or null. */
export async function checkAwaiting(row: PendingActionRow, waitSeconds: number, deps: QuorumDeps = {}): Promise<PendingActionRow | null> {
  if (row.state !== 'awaiting') return null;
  if (!row.published) {
    const published = await publishAwaiting(row, deps);
    return published && published.state !== 'awaiting' ? published : null;
  }
  const verifier = await verifierOf(deps);
  if (!verifier) return null;
  const answer = await proposalStatus(verifier, row.published, waitSeconds, deps.authorize ?? deviceAuthorization, deps.fetchFn ?? fetch);
  const move = awaitingMove(row, answer);
  if (!move) return null;
  return moveAction(row.id, move.event, move.patch, move.detail, (deps.now ?? Date.now)());
}

export interface WatchHooks {
  /** An awaiting action met its quorum: release it to its tab with every token. */
  release(row: PendingActionRow): Promise<void>;
  /** It ended without release (rejected, expired, failed): tell its tab. */
  settle(row: PendingActionRow): Promise<void>;
  /** Called each round: keeps a service worker that waits on the verifier awake. */
  keepAlive?(): Promise<unknown>;
}

let watching: Promise<void> | null = null;

/**
 * Watches every awaiting action until none is left: long polls on the published ones, publication of
 * the rest. One watch at a time (a second call joins it); an alarm starts it again after a worker restart.
 */
export function watchAwaiting(hooks: WatchHooks, deps: QuorumDeps = {}): Promise<void> {
  watching ??= (async () => {
    try {
      for (;;) {
        const rows = await db().actions.where('state').equals('awaiting').toArray();
        if (rows.length === 0) return;
        await hooks.keepAlive?.().catch(() => undefined);
        const started = Date.now();
        const moved = await Promise.all(rows.map((r) => checkAwaiting(r, LONG_POLL_SECONDS, deps).catch(() => null)));
        for (const row of moved) {
          if (!row) continue;
          if (row.state === 'approved') await hooks.release(row);
          else if (row.state !== 'awaiting') await hooks.settle(row);
        }
        // Nothing moved and nothing waited on the verifier (not published yet, no answer, a refusal): not again at once.
        if (moved.every((m) => m === null) && Date.now() - started < 1000) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    } finally {
      watching = null;
    }
  })();
  return watching;
}
