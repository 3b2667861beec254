// The agent's side of DESIGN.md's "Agent proposals": propose an exact request with the agent key,
// long-poll for the owner's decision (abortable, bounded, retrying a verifier that is briefly away),
// then send exactly the proposed request with the approval token. Runtime-neutral (fetch, AbortSignal,
// zod; nothing Node-only).
import { z } from 'zod';
import { ErrorBody, PROPOSAL_LIMITS, ProposalCreateRequest, ProposalCreated, ProposalId, ProposalStatus, QUORUM_LIMITS, isErrorCode, joinApprovalTokens } from '../protocol';
import type { ActionRequest } from '../protocol';
import { DecisionTimeout, UnexpectedAnswer, VerifierRefusal, VerifierUnreachable } from './errors';

export interface RetryOptions {
  /** Tries of one poll before giving up with VerifierUnreachable; default 6. */
  attempts?: number;
  /** The first pause between tries, doubled each time; default 250 ms. */
  baseDelayMs?: number;
  /** The longest pause; default 5000 ms. */
  maxDelayMs?: number;
}

export interface AgentClientOptions {
  /** The verifier's base URL, e.g. http://127.0.0.1:8787. */
  verifier: string;
  /** The agent key (`csa_…`) an admin made for this agent; sent only to the verifier. */
  agentKey: string;
  fetch?: typeof fetch;
  retry?: RetryOptions;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Give up (DecisionTimeout) when still pending after this long; default: wait until it is decided or expires. */
  timeoutMs?: number;
}

export interface ExecuteOptions {
  /** The agent's own credentials at the tool (an agent-key header, say); never Content-Type or Countersign-Approval. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * A decided proposal: `approved` carries every approval (`tokens`: more than one when policy requires
 * several people; `token` is the first), `rejected` the reason.
 */
export type Decision =
  | { id: string; state: 'approved'; token: string; tokens: string[]; approvers: string[] }
  | { id: string; state: 'rejected'; reason: string }
  | { id: string; state: 'expired' };

export interface AgentClient {
  propose(proposal: ProposalCreateRequest, options?: { signal?: AbortSignal }): Promise<ProposalCreated>;
  /** One status read, long-polling up to `waitSeconds` (≤ 30) while pending. */
  status(id: string, waitSeconds?: number, options?: { signal?: AbortSignal }): Promise<ProposalStatus>;
  waitForDecision(id: string, options?: WaitOptions): Promise<Decision>;
  /**
   * Sends exactly `request` (method, URL, content type, body bytes) with `Countersign-Approval`: the
   * token, or every token of a quorum (pass a decision's `tokens`), as one comma-separated list.
   */
  execute(request: ActionRequest, tokens: string | readonly string[], options?: ExecuteOptions): Promise<Response>;
}

const AgentClientOptionsSchema = z.object({
  verifier: z.url({ protocol: /^https?$/ }),
  agentKey: z.string().min(1).max(512),
});

/** Headers that `execute` sets itself from the proposal: a caller may not replace them. */
const RESERVED_HEADERS = new Set(['content-type', 'countersign-approval', 'content-length', 'host']);

/** Statuses after which the same read may succeed: a verifier restarting, a proxy in between. */
const TRANSIENT = new Set([502, 503, 504]);

/** Room beyond the long poll itself before a hung connection counts as a failed try. */
const POLL_GRACE_MS = 15_000;

export function backoffDelay(failures: number, retry: Required<RetryOptions>): number {
  return Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, failures - 1));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function issuePath(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || 'proposal'}: ${issue.message}` : 'invalid';
}

/** DESIGN.md's error body as a VerifierRefusal, or UnexpectedAnswer when the body is not one. */
async function refusalOf(response: Response, what: string): Promise<Error> {
  const parsed = ErrorBody.safeParse(await response.json().catch(() => null));
  if (!parsed.success || !isErrorCode(parsed.data.error.code)) return new UnexpectedAnswer(what, response.status);
  return new VerifierRefusal(parsed.data.error.code, parsed.data.error.message, response.status, parsed.data.error.traceId);
}

export function createAgentClient(options: AgentClientOptions): AgentClient {
  const checked = AgentClientOptionsSchema.safeParse(options);
  // Misuse by the caller: a TypeError that names the option, never its value.
  if (!checked.success) throw new TypeError(`createAgentClient: ${issuePath(checked.error)}`);
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const retry: Required<RetryOptions> = { attempts: 6, baseDelayMs: 250, maxDelayMs: 5000, ...options.retry };
  const base = checked.data.verifier;
  const authorization = `Bearer ${checked.data.agentKey}`;

  const propose: AgentClient['propose'] = async (proposal, opts = {}) => {
    const body = ProposalCreateRequest.safeParse(proposal);
    if (!body.success) throw new TypeError(`propose: ${issuePath(body.error)}`);
    // Never retried: a second POST after a lost answer would be a second proposal.
    let response: Response;
    try {
      response = await doFetch(new URL('/v1/proposals', base), {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body.data),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (error) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw new VerifierUnreachable(1, 'no answer', { cause: error });
    }
    if (response.status !== 201) throw await refusalOf(response, 'POST /v1/proposals');
    const created = ProposalCreated.safeParse(await response.json().catch(() => null));
    if (!created.success) throw new UnexpectedAnswer('POST /v1/proposals', response.status);
    return created.data;
  };

  const status: AgentClient['status'] = async (id, waitSeconds = 0, opts = {}) => {
    if (!ProposalId.safeParse(id).success) throw new TypeError('status: not a proposal id');
    const wait = Math.max(0, Math.min(PROPOSAL_LIMITS.waitSeconds, Math.floor(waitSeconds)));
    const url = new URL(`/v1/proposals/${id}`, base);
    url.searchParams.set('wait', String(wait));
    const response = await doFetch(url, { headers: { authorization, accept: 'application/json' }, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (response.status !== 200) throw await refusalOf(response, 'GET /v1/proposals/{id}');
    const parsed = ProposalStatus.safeParse(await response.json().catch(() => null));
    if (!parsed.success || parsed.data.id !== id) throw new UnexpectedAnswer('GET /v1/proposals/{id}', response.status);
    return parsed.data;
  };

  const waitForDecision: AgentClient['waitForDecision'] = async (id, opts = {}) => {
    if (!ProposalId.safeParse(id).success) throw new TypeError('waitForDecision: not a proposal id');
    const outer = opts.signal ?? new AbortController().signal;
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    let failures = 0;
    for (;;) {
      outer.throwIfAborted();
      const left = deadline - Date.now();
      if (left <= 0) throw new DecisionTimeout(id, opts.timeoutMs ?? 0);
      const wait = Math.min(PROPOSAL_LIMITS.waitSeconds, Math.ceil(left / 1000));
      // One fetch per poll: aborted by the caller's signal, or when it outlives the poll by far.
      const hung = new AbortController();
      const timer = setTimeout(() => hung.abort(new Error('the long poll hung')), wait * 1000 + POLL_GRACE_MS);
      let current: ProposalStatus | undefined;
      let failure: { reason: string; cause?: unknown } | undefined;
      try {
        current = await status(id, wait, { signal: AbortSignal.any([outer, hung.signal]) });
      } catch (error) {
        if (outer.aborted) throw outer.reason;
        if (error instanceof VerifierRefusal && !TRANSIENT.has(error.httpStatus)) throw error;
        if (error instanceof UnexpectedAnswer && !TRANSIENT.has(error.httpStatus)) throw error;
        if (error instanceof TypeError && error.message.startsWith('status:')) throw error;
        failure = { reason: error instanceof VerifierRefusal || error instanceof UnexpectedAnswer ? `HTTP ${error.httpStatus}` : 'no answer', cause: error };
      } finally {
        clearTimeout(timer);
      }
      if (current) {
        failures = 0;
        if (current.state === 'approved') {
          if (!current.token) throw new UnexpectedAnswer('GET /v1/proposals/{id} (approved without a token)', 200);
          // `token` is the first of `tokens` (a verifier before quorums sent `token` alone): an answer where it is not does not hang together.
          if (current.tokens && current.tokens[0] !== current.token) throw new UnexpectedAnswer('GET /v1/proposals/{id} (token is not the first of tokens)', 200);
          const tokens = current.tokens ?? [current.token];
          return { id, state: 'approved', token: current.token, tokens, approvers: current.approvers ?? [] };
        }
        if (current.state === 'rejected') return { id, state: 'rejected', reason: current.reason ?? '' };
        if (current.state === 'expired') return { id, state: 'expired' };
        continue;
      }
      failures += 1;
      if (failures >= retry.attempts) throw new VerifierUnreachable(failures, failure!.reason, { cause: failure!.cause });
      await pause(Math.min(backoffDelay(failures, retry), Math.max(0, deadline - Date.now())), outer);
    }
  };

  const execute: AgentClient['execute'] = async (request, given, opts = {}) => {
    const tokens = typeof given === 'string' ? [given] : [...given];
    if (tokens.length === 0 || tokens.length > QUORUM_LIMITS.maxApprovers || tokens.some((t) => typeof t !== 'string' || t.length === 0 || /[\s,]/.test(t))) {
      throw new TypeError(`execute: 1–${QUORUM_LIMITS.maxApprovers} approval tokens`);
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(opts.headers ?? {})) {
      if (RESERVED_HEADERS.has(name.toLowerCase())) throw new TypeError(`execute: header ${name} comes from the proposal, not the caller`);
      headers.set(name, value);
    }
    if (request.contentType !== null) headers.set('content-type', request.contentType);
    headers.set('countersign-approval', joinApprovalTokens(tokens));
    return doFetch(request.url, {
      method: request.method.toUpperCase(),
      headers,
      // Bytes, not a string: fetch adds no Content-Type of its own, and the UTF-8 is what was digested.
      ...(request.body !== null ? { body: new TextEncoder().encode(request.body) } : {}),
      // A redirect would carry the token to another URL than the one approved.
      redirect: 'manual',
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  };

  return { propose, status, waitForDecision, execute };
}
