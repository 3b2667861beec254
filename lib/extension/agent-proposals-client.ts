// The verifier's device routes for agent proposals (DESIGN.md, "Agent proposals", "Policy bots,
// quorum, batch review"): the list this device's user may approve (`GET /v1/proposals?state=pending`),
// a decision (`POST /v1/proposals/{id}/decision`), a held action's approval plan
// (`POST /v1/approval-plan`), its publication for more approvers (`POST /v1/proposals/held`) and its
// status (`GET /v1/proposals/{id}?wait=`), and what policy bots approved (`GET /v1/policy-bot/approvals`),
// each with a fresh device proof; answers parsed with the protocol's schemas, failures told apart: the
// verifier refused (its code), or did not answer. Background only.
import { ApprovalPlan, BotApprovalList, ErrorBody, PROPOSAL_LIMITS, ProposalCreated, ProposalDecided, ProposalList, ProposalStatus, parseJsonStrict } from '../protocol';
import type { ApprovalPlanRequest, BotApprovalRecord, HeldActionPublication, PendingProposal, ProposalDecision } from '../protocol';
import type { z } from 'zod';

const TIMEOUT_MS = 5000;
/** 100 proposals of at most 1 MiB bodies would be more; a list answer over this is refused. */
const MAX_ANSWER_CHARS = 8 * 1024 * 1024;

/** The `Authorization` value for one request, or null when this device cannot authenticate there (deviceAuthorization). */
export type Authorize = (method: string, url: string, verifier: string) => Promise<string | null>;

export type VerifierAnswer<T> =
  | { ok: true; value: T }
  /** `unreachable`: no answer, or one that is not the verifier's; otherwise the verifier's own code. */
  | { ok: false; code: string; message: string; unreachable: boolean };

async function call(verifier: string, method: 'GET' | 'POST', path: string, body: unknown, authorize: Authorize, fetchFn: typeof fetch, timeoutMs = TIMEOUT_MS): Promise<VerifierAnswer<unknown>> {
  const url = new URL(path, verifier).href;
  const authorization = await authorize(method, url, verifier).catch(() => null);
  if (!authorization) return { ok: false, code: 'not_enrolled', message: `This browser is not enrolled with the verifier at ${new URL(verifier).origin}.`, unreachable: false };
  let res: Response;
  let text: string;
  try {
    res = await fetchFn(url, {
      method,
      headers: { accept: 'application/json', authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (e) {
    const err = e as Error;
    return { ok: false, code: 'verifier_unavailable', message: err.name === 'TimeoutError' ? `The verifier did not answer within ${Math.round(timeoutMs / 1000)} s.` : 'The verifier did not answer.', unreachable: true };
  }
  if (text.length > MAX_ANSWER_CHARS) return { ok: false, code: 'verifier_unavailable', message: 'The verifier\'s answer is too large.', unreachable: true };
  const json = parseJsonStrict(text);
  if (!res.ok) {
    const error = json.ok ? ErrorBody.safeParse(json.value) : null;
    if (error?.success) return { ok: false, code: error.data.error.code, message: error.data.error.message, unreachable: false };
    return { ok: false, code: 'verifier_unavailable', message: `The verifier answered HTTP ${res.status}.`, unreachable: true };
  }
  if (!json.ok) return { ok: false, code: 'verifier_unavailable', message: 'The verifier\'s answer is not JSON.', unreachable: true };
  return { ok: true, value: json.value };
}

/** The proposals this device's user may approve, oldest first. */
export async function listAgentProposals(verifier: string, authorize: Authorize, fetchFn: typeof fetch = fetch): Promise<VerifierAnswer<PendingProposal[]>> {
  const answer = await call(verifier, 'GET', '/v1/proposals?state=pending', undefined, authorize, fetchFn);
  if (!answer.ok) return answer;
  const list = ProposalList.safeParse(answer.value);
  if (!list.success) return { ok: false, code: 'verifier_unavailable', message: `The verifier's list of proposals is off the protocol (${list.error.issues[0]?.path.join('.') || 'answer'}: ${list.error.issues[0]?.message}).`, unreachable: true };
  return { ok: true, value: list.data.proposals };
}

/** Posts one decision; the verifier's `{state}`, or why not (`already_decided` when another came first). */
export async function postAgentDecision(verifier: string, id: string, decision: ProposalDecision, authorize: Authorize, fetchFn: typeof fetch = fetch): Promise<VerifierAnswer<ProposalDecided>> {
  const answer = await call(verifier, 'POST', `/v1/proposals/${encodeURIComponent(id)}/decision`, decision, authorize, fetchFn);
  if (!answer.ok) return answer;
  const decided = ProposalDecided.safeParse(answer.value);
  if (!decided.success) return { ok: false, code: 'verifier_unavailable', message: 'The verifier\'s answer to the decision is off the protocol.', unreachable: true };
  return { ok: true, value: decided.data };
}

/** An answer taken through its schema: off the protocol is as good as no answer. */
function parsed<T>(answer: VerifierAnswer<unknown>, schema: z.ZodType<T>, what: string): VerifierAnswer<T> {
  if (!answer.ok) return answer;
  const value = schema.safeParse(answer.value);
  if (!value.success) return { ok: false, code: 'verifier_unavailable', message: `The verifier's ${what} is off the protocol.`, unreachable: true };
  return { ok: true, value: value.data };
}

/** What a held action needs: how many distinct approvers, and a policy bot's token when a bot's rule covers it. */
export async function postApprovalPlan(verifier: string, body: ApprovalPlanRequest, authorize: Authorize, fetchFn: typeof fetch = fetch): Promise<VerifierAnswer<ApprovalPlan>> {
  return parsed(await call(verifier, 'POST', '/v1/approval-plan', body, authorize, fetchFn), ApprovalPlan, 'approval plan');
}

/** Publishes a held action its owner approved, with her token, for the other approvers policy requires. */
export async function publishHeldAction(verifier: string, body: HeldActionPublication, authorize: Authorize, fetchFn: typeof fetch = fetch): Promise<VerifierAnswer<ProposalCreated>> {
  return parsed(await call(verifier, 'POST', '/v1/proposals/held', body, authorize, fetchFn), ProposalCreated, 'answer to the publication');
}

/** A published held action's status, long-polled up to `waitSeconds` while pending; approved: every token, in order. */
export async function proposalStatus(verifier: string, id: string, waitSeconds: number, authorize: Authorize, fetchFn: typeof fetch = fetch): Promise<VerifierAnswer<ProposalStatus>> {
  const wait = Math.max(0, Math.min(PROPOSAL_LIMITS.waitSeconds, Math.floor(waitSeconds)));
  return parsed(await call(verifier, 'GET', `/v1/proposals/${encodeURIComponent(id)}?wait=${wait}`, undefined, authorize, fetchFn, TIMEOUT_MS + wait * 1000), ProposalStatus, 'proposal status');
}

/** What policy bots approved in the last 24 hours for this user's agents and own held actions, newest first. */
export async function listBotApprovals(verifier: string, authorize: Authorize, fetchFn: typeof fetch = fetch): Promise<VerifierAnswer<BotApprovalRecord[]>> {
  const answer = parsed(await call(verifier, 'GET', '/v1/policy-bot/approvals', undefined, authorize, fetchFn), BotApprovalList, 'list of bot approvals');
  return answer.ok ? { ok: true, value: answer.value.approvals } : answer;
}
