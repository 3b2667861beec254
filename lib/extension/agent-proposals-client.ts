// The verifier's device routes for agent proposals (DESIGN.md, "Agent proposals"): the list this
// device's user may approve (`GET /v1/proposals?state=pending`) and a decision
// (`POST /v1/proposals/{id}/decision`), each with a fresh device proof; answers parsed with the
// protocol's schemas, failures told apart: the verifier refused (its code), or did not answer.
// Background only.
import { ErrorBody, ProposalDecided, ProposalList, parseJsonStrict } from '../protocol';
import type { PendingProposal, ProposalDecision } from '../protocol';

const TIMEOUT_MS = 5000;
/** 100 proposals of at most 1 MiB bodies would be more; a list answer over this is refused. */
const MAX_ANSWER_CHARS = 8 * 1024 * 1024;

/** The `Authorization` value for one request, or null when this device cannot authenticate there (deviceAuthorization). */
export type Authorize = (method: string, url: string, verifier: string) => Promise<string | null>;

export type VerifierAnswer<T> =
  | { ok: true; value: T }
  /** `unreachable`: no answer, or one that is not the verifier's; otherwise the verifier's own code. */
  | { ok: false; code: string; message: string; unreachable: boolean };

async function call(verifier: string, method: 'GET' | 'POST', path: string, body: unknown, authorize: Authorize, fetchFn: typeof fetch): Promise<VerifierAnswer<unknown>> {
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
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    text = await res.text();
  } catch (e) {
    const err = e as Error;
    return { ok: false, code: 'verifier_unavailable', message: err.name === 'TimeoutError' ? 'The verifier did not answer within 5 s.' : 'The verifier did not answer.', unreachable: true };
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
