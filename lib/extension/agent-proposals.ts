// Agent proposals (DESIGN.md, "Agent proposals"), the pure part: the stored state the background keeps
// of them (the verifier's list, the ids already seen, decisions in flight), the digest check before
// signing, what the toolbar counts, and the review the owner reads — a word diff for a post, a
// field-by-field diff for a config change whose "before" comes from the site's adapter read in the
// user's own session (a reader passed in), never from the agent. Runtime-neutral, pure but for the
// reader it is given.
import { z } from 'zod';
import { Diff, PendingProposal, ProposalDecision, ProposalId, actionDigest, fillPathTemplate, jsonPointer } from '../protocol';
import { adapterFor, isProtected, requestAction } from '../policy/site-adapters';
import type { PolicyView } from '../policy/effective-policy';
import { bodyPairs, fieldRows, postText } from '../shared/request-body';
import type { Json } from '../shared/request-body';

/** Ids remembered as seen (notified, logged `proposed`); older ones are forgotten first. */
export const SEEN_LIMIT = 500;
/** A decision the verifier answered stays shown this long (ms), so the owner sees what became of it. */
export const SETTLED_SHOWN_MS = 10 * 60_000;

/**
 * One decision this device made: stored before it is posted, so a worker stopped mid-post retries it
 * (`sending`) instead of losing it; `delivered` once the verifier took it, `refused` when it answered
 * with an error (`already_decided` among them), its code and message kept to show.
 */
export const AgentDecision = z.strictObject({
  id: ProposalId,
  kind: z.enum(['approve', 'reject']),
  body: ProposalDecision,
  /** The proposal as listed when decided: shown while the decision is in flight or after it failed. */
  proposal: PendingProposal,
  state: z.enum(['sending', 'delivered', 'refused']),
  /** What the verifier said the proposal became once it took the decision: `pending` while a quorum still needs others. */
  answered: z.enum(['pending', 'approved', 'rejected']).optional(),
  code: z.string().max(64).nullable(),
  message: z.string().max(1000).nullable(),
  decidedAt: z.int().min(0),
  updatedAt: z.int().min(0),
});
export type AgentDecision = z.infer<typeof AgentDecision>;

/** What the background keeps of agent proposals (a setting row): the verifier stays the source of truth. */
export const AgentProposalsState = z.strictObject({
  /** The verifier the list came from. */
  verifierUrl: z.string().nullable(),
  proposals: z.array(PendingProposal),
  /** Last successful list (ms), and the last attempt. */
  fetchedAt: z.int().min(0).nullable(),
  checkedAt: z.int().min(0).nullable(),
  /** Why the last list failed; null when it did not. */
  error: z.string().max(1000).nullable(),
  seen: z.array(ProposalId).max(SEEN_LIMIT),
  decisions: z.array(AgentDecision),
});
export type AgentProposalsState = z.infer<typeof AgentProposalsState>;

export const EMPTY_AGENT_PROPOSALS: AgentProposalsState = { verifierUrl: null, proposals: [], fetchedAt: null, checkedAt: null, error: null, seen: [], decisions: [] };

/** True when the digest the verifier listed is the canonical digest of the request it listed: only then may it be signed. */
export async function digestMatches(proposal: Pick<PendingProposal, 'request' | 'digest'>): Promise<boolean> {
  try {
    return (await actionDigest(proposal.request)) === proposal.digest;
  } catch {
    return false;
  }
}

/**
 * A fresh list taken in: the proposals the verifier lists, the ones not seen before (to notify and log
 * `proposed`), the seen ids kept (newest last, at most SEEN_LIMIT), and decisions answered long ago
 * forgotten. A decision still `sending` is kept whatever the list says.
 */
export function takeList(state: AgentProposalsState, listed: PendingProposal[], verifierUrl: string, now: number): { next: AgentProposalsState; fresh: PendingProposal[] } {
  const seen = new Set(state.verifierUrl === verifierUrl ? state.seen : []);
  const fresh = listed.filter((p) => !seen.has(p.id));
  const kept = [...seen].filter((id) => !fresh.some((p) => p.id === id));
  const ids = [...kept, ...fresh.map((p) => p.id)].slice(-SEEN_LIMIT);
  const decisions = state.decisions.filter((d) => d.state === 'sending' || now - d.updatedAt < SETTLED_SHOWN_MS);
  return { next: { ...state, verifierUrl, proposals: listed, fetchedAt: now, checkedAt: now, error: null, seen: ids, decisions }, fresh };
}

/** A failed list: the last one is kept to show, marked with why (the popup then approves nothing). */
export function listFailed(state: AgentProposalsState, error: string, now: number): AgentProposalsState {
  return { ...state, checkedAt: now, error };
}

/** What waits for the owner: listed, not expired, not decided here. */
export function waiting(state: AgentProposalsState, now: number): PendingProposal[] {
  const decided = new Set(state.decisions.filter((d) => d.state !== 'refused' || d.code === 'already_decided').map((d) => d.id));
  return state.proposals.filter((p) => p.expiresAt * 1000 > now && !decided.has(p.id));
}

/** How many more approvers a proposal needs after this device's approval was counted (0 when it met the quorum). */
export function moreNeeded(proposal: Pick<PendingProposal, 'quorum' | 'approvals'>): number {
  return Math.max(0, proposal.quorum - proposal.approvals.length - 1);
}

/** The toolbar's share of agent proposals. */
export function waitingCount(state: AgentProposalsState, now: number): number {
  return waiting(state, now).length;
}

/** Records a decision (or replaces one that was refused for a reason other than a decision elsewhere). */
export function withDecision(state: AgentProposalsState, decision: AgentDecision): AgentProposalsState {
  return { ...state, decisions: [...state.decisions.filter((d) => d.id !== decision.id), decision] };
}

/** The verifier's answer to a posted decision, applied: delivered (and no longer listed), or refused with its code. */
export function settleDecision(state: AgentProposalsState, id: string, outcome: { ok: true; answered?: 'pending' | 'approved' | 'rejected' } | { ok: false; code: string; message: string }, now: number): AgentProposalsState {
  const decisions = state.decisions.map((d) =>
    d.id !== id
      ? d
      : outcome.ok
        ? { ...d, state: 'delivered' as const, ...(outcome.answered ? { answered: outcome.answered } : {}), code: null, message: null, updatedAt: now }
        : { ...d, state: 'refused' as const, code: outcome.code, message: outcome.message, updatedAt: now },
  );
  const proposals = outcome.ok || outcome.code === 'already_decided' ? state.proposals.filter((p) => p.id !== id) : state.proposals;
  return { ...state, proposals, decisions };
}

/** Reads the current state at a URL in the user's own session: its JSON value, or null when there is none to read. */
export type BeforeReader = (url: string) => Promise<unknown>;

export interface AgentProposalReview {
  /** The request's origin. */
  site: string;
  /** The adapter the request's site has, by id; null when none (or the site is not protected). */
  adapterId: string | null;
  /** A post's text diff, or a config change's fields (before read through the adapter), or null: the raw body is shown. */
  diff: Diff | null;
  /** Where the body carries the post's text, so the rest of the body is shown beside it. */
  contentField: string | null;
  /** Why there is no "before" (or no diff), in words for the owner; null when the before was read. */
  beforeNote: string | null;
}

function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * What the owner reviews for an agent proposal. The adapter is the one policy gives the request's
 * site (which must be protected, or nothing is read there); the agent's say counts only for where a
 * post's text is when the adapter names no content field. Nothing the agent sent is a "before".
 */
export async function reviewAgentProposal(proposal: PendingProposal, view: Pick<PolicyView, 'policy' | 'adapterSources' | 'failClosed'>, readBefore: BeforeReader): Promise<AgentProposalReview> {
  const { method, url, contentType, body } = proposal.request;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { site: '(no site)', adapterId: null, diff: null, contentField: null, beforeNote: 'The request\'s URL is not one a browser can send.' };
  }
  const site = target.origin;
  const protectedSite = /^https?:$/.test(target.protocol) && isProtected(view, target.href);
  const adapter = protectedSite ? adapterFor(view, target.href) : null;
  const found = requestAction(adapter, method, target);
  const action = found.ok ? found.action : null;
  const contentField = action?.content ?? proposal.contentField ?? null;

  let text: string | null = null;
  try {
    text = contentField ? postText(contentType, body, contentField) : null;
  } catch {
    return { site, adapterId: adapter?.id ?? null, diff: null, contentField: null, beforeNote: 'The post\'s text field is sent more than once: which one the tool reads is a guess.' };
  }
  const note = !protectedSite
    ? `Before: not available (${site} is not a protected site in policy, so Countersign does not read it).`
    : !found.ok
      ? `Before: not available (${found.reason}).`
      : !action?.before
        ? 'Before: not available (the site\'s adapter declares no way to read it).'
        : 'form' in action.before
          ? 'Before: not available (the site\'s adapter reads it from the page\'s form, which is not open here).'
          : null;
  const get = action?.before && 'get' in action.before ? action.before.get : null;
  const captures = found.ok ? found.captures : [];
  const read = async (): Promise<unknown> => (get ? readBefore(new URL(fillPathTemplate(get, captures), site).href).catch(() => null) : null);

  if (text !== null) {
    let before: string | null = null;
    let beforeNote = note;
    if (get && contentField) {
      const value = await read();
      const at = isObject(value) ? (contentField.startsWith('/') ? jsonPointer(value, contentField) : value[contentField]) : undefined;
      if (typeof at === 'string') before = at;
      else beforeNote = 'Before: not available (the site did not answer its current text).';
    }
    return { site, adapterId: adapter?.id ?? null, diff: { kind: 'text', before, after: text }, contentField, beforeNote: before === null && !beforeNote ? 'Before: none (a new post).' : beforeNote };
  }
  const after = bodyPairs(contentType, body);
  if (!after) return { site, adapterId: adapter?.id ?? null, diff: null, contentField: null, beforeNote: note ?? 'The body is not JSON or a form: shown as sent.' };
  if (!get) return { site, adapterId: adapter?.id ?? null, diff: null, contentField: null, beforeNote: note };
  const value = await read();
  if (!isObject(value)) return { site, adapterId: adapter?.id ?? null, diff: null, contentField: null, beforeNote: 'Before: not available (the site did not answer its current state in your session).' };
  const diff = Diff.safeParse({ kind: 'fields', fields: fieldRows(Object.entries(value), after) });
  // More fields than a review holds, or a name too long to show: the body as sent, never a half diff.
  if (!diff.success) return { site, adapterId: adapter?.id ?? null, diff: null, contentField: null, beforeNote: 'Too many or too long fields to compare one by one: the request is shown as sent.' };
  return { site, adapterId: adapter?.id ?? null, diff: diff.data, contentField: null, beforeNote: null };
}
