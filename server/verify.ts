// The verify decision shared by `POST /v1/verify` and the in-process middleware: DESIGN.md's checks,
// then the receipt, written with the replay insert and the decision record in one transaction. Node only.
import type { ApprovalClaims, ApprovalQuestion, ApprovalVerifyContext, EnrolledKey, Principal, VerifiedApproval } from '../lib/protocol';
import {
  CLOCK_SKEW_SECONDS,
  CountersignError,
  TokenRejected,
  actionFacts,
  policyBotName,
  MAX_APPROVAL_TTL_SECONDS,
  Digest,
  TraceId,
  VerifierUnavailable,
  mintReceipt,
  verifyApprovalToken,
} from '../lib/protocol';
import type { Kysely } from 'kysely';
import type { Database } from './db/schema';
import type { VerifierMetrics } from './metrics';
import type { PolicySet } from './policy/engine';
import { presenceGate } from './presence-gate';
import { readPresented } from './presented-token';
import type { DecisionFacts, DecisionWriter } from './store/decisions';
import type { ReceiptSigner } from './store/receipt-keys';
import { receiptRow } from './store/receipts';
import type { VerifyReads } from './store/verify-reads';

export interface VerifyCall {
  token?: string | undefined;
  /** Every approval the request carried, when more than one (a quorum); then `token` is unused. */
  tokens?: readonly string[] | undefined;
  request: { method: string; url: string; contentType: string | null; body: string | Uint8Array | null };
  /** The scope of the route the request is on (the tool's configuration): the token's `scp` must equal it. */
  scope: string;
  /** The route's content field: the post's text for the receipt's `cdg` is read from the approved body here. */
  contentField?: string | undefined;
  principal?: Principal | undefined;
  assisted?: boolean | undefined;
}

export interface VerifyAllowed {
  allow: true;
  receipt: string;
  traceId: string;
  agent: string;
  approver: string;
}

export interface VerifyDeps {
  /** Where devices' presence credentials and admitted sign counts live. */
  db: Kysely<Database>;
  /** The durable writes: replay insert with its allow record, refusal records. */
  decisions: DecisionWriter;
  lookupKey(kid: string): Promise<EnrolledKey | undefined>;
  /** The registry reads of one verify (key, agent, kills), given the token presented. */
  reads(token: unknown): VerifyReads;
  /** Reads the active policy and receipt signer again (registry-state.ts); then policy() and signer() are the database's. */
  refresh(): Promise<void>;
  policy(): PolicySet;
  signer(): ReceiptSigner;
  metrics: VerifierMetrics;
  /** Milliseconds since 1970. */
  now(): number;
  /** Seconds; tokens issued before it are refused. */
  bootEpoch: number;
  approvalTtlSeconds: number;
  issuer: string;
}

/**
 * Decides one request's approval (or approvals: a quorum). Every call, allowed or refused, leaves a
 * decision record. Throws a CountersignError with DESIGN.md's code; a storage failure is
 * `verifier_unavailable` (fail closed).
 */
export async function verifyAction(deps: VerifyDeps, call: VerifyCall): Promise<VerifyAllowed> {
  const stop = deps.metrics.verifySeconds.startTimer();
  let policy = deps.policy();
  const now = deps.now();
  const tokens = call.tokens ?? (call.token === undefined ? [] : [call.token]);
  try {
    // The policy and receipt key active in the database now, whichever replica made them so.
    await deps.refresh();
    policy = deps.policy();
    const result = tokens.length > 1 ? await verifyQuorum(deps, call, tokens, policy, now) : await verifyOne(deps, call, tokens[0], policy, now);
    deps.metrics.decisions.inc({ code: 'allow' });
    return result;
  } catch (error) {
    const refusal = error instanceof CountersignError ? error : new VerifierUnavailable('the verifier could not decide', { cause: error });
    deps.metrics.decisions.inc({ code: refusal.code });
    const facts = { ...presentedFacts(tokens[0]), code: refusal.code, policyVersion: policy.version };
    await deps.decisions.recordRefusal(facts, now).catch(() => undefined);
    // Answered with the same code and message, under the token's trace when it carried one.
    throw facts.traceId ? new CountersignError(refusal.code, refusal.message, { cause: refusal, traceId: facts.traceId }) : refusal;
  } finally {
    stop();
  }
}

/** The checks every token of a request gets (DESIGN.md's order), `consume` last when given. */
function tokenContext(deps: VerifyDeps, call: VerifyCall, reads: VerifyReads, policy: PolicySet, now: number, extra: Pick<ApprovalVerifyContext, 'consume' | 'coSigned'>): ApprovalVerifyContext {
  return {
    lookupKey: reads.lookupKey,
    request: call.request,
    scope: call.scope,
    contentField: call.contentField,
    principal: call.principal,
    assisted: call.assisted,
    now: Math.floor(now / 1000),
    maxTtlSeconds: Math.min(deps.approvalTtlSeconds, MAX_APPROVAL_TTL_SECONDS),
    bootEpoch: deps.bootEpoch,
    authorize: async (q) => policy.decide({ ...q, agent: await reads.lookupAgent(q.agt), now }),
    kills: reads.killsCovering,
    presence: presenceGate({ db: deps.db, policy, lookupAgent: reads.lookupAgent }),
    ...extra,
  };
}

/** How many distinct people policy requires for what `question` asks (1 unless a quorum rule covers it). */
async function quorumFor(reads: VerifyReads, policy: PolicySet, question: ApprovalQuestion): Promise<number> {
  return policy.quorum({ agt: question.agt, scp: question.scp, site: question.site, facts: question.facts, agent: await reads.lookupAgent(question.agt) });
}

/** The receipt for an allowed request, and its row (stored in the consumption's transaction). */
async function receiptFor(deps: VerifyDeps, policy: PolicySet, now: number, claims: ApprovalClaims, digest: string, content: string | null, approvers: readonly string[]) {
  const signer = deps.signer();
  const { receipt, claims: receiptClaims } = await mintReceipt({
    privateKey: signer.privateKey,
    kid: signer.kid,
    issuer: deps.issuer,
    agent: claims.agt,
    approver: approvers[0]!,
    approvers,
    traceId: claims.trc,
    digest,
    policyVersion: policy.version,
    content,
    now: Math.floor(now / 1000),
  });
  return { receipt, row: receiptRow({ jti: receiptClaims.jti, site: claims.aud, cdg: receiptClaims.cdg, receipt }, now) };
}

async function verifyOne(deps: VerifyDeps, call: VerifyCall, token: string | undefined, policy: PolicySet, now: number): Promise<VerifyAllowed> {
  const reads = deps.reads(token);
  let issued: string | undefined;
  const verified = await verifyApprovalToken(
    token,
    tokenContext(deps, call, reads, policy, now, {
      // Called only once every other check passed. The receipt is minted here, before the jti is
      // consumed, so that it is stored (for lookup by site and cdg) in the same transaction as the
      // consumption and the allow record: a receipt a tool was handed is always findable, and it
      // costs no commit of its own. A replay's receipt is never stored nor answered.
      consume: async (entry) => {
        // The text verifyApprovalToken read from the digested bytes: the request is not parsed again.
        const question = { sub: entry.claims.sub, agt: entry.claims.agt, scp: entry.claims.scp, site: entry.claims.aud, facts: actionFacts(call.request, entry.content) };
        const needed = await quorumFor(reads, policy, question);
        if (needed > 1) throw new CountersignError('quorum_not_met', `policy requires ${needed} distinct approvers; the request carries 1`);
        const { receipt, row } = await receiptFor(deps, policy, now, entry.claims, entry.digest, entry.content, [entry.claims.sub]);
        const fresh = await deps.decisions.consumeAndAllow(
          entry,
          { traceId: entry.claims.trc, agent: entry.claims.agt, approver: entry.claims.sub, digest: entry.digest, policyVersion: policy.version, kid: entry.kid },
          now,
          row,
        );
        if (fresh) issued = receipt;
        return fresh;
      },
    }),
  );
  const { claims } = verified;
  if (issued === undefined) throw new VerifierUnavailable('the verifier could not issue a receipt');
  return { allow: true, receipt: issued, traceId: claims.trc, agent: claims.agt, approver: claims.sub };
}

/**
 * Several approvals of one request: each token passes every check on its own (nothing consumed),
 * then together they must approve one action (one digest, agent and trace), by distinct people,
 * devices and keys, as many as policy requires (policy bots count only where one approver is
 * enough), one of them the person whose session it is when an assistant acted in it; then every jti
 * is consumed in one transaction — any already used and none is.
 */
async function verifyQuorum(deps: VerifyDeps, call: VerifyCall, tokens: readonly string[], policy: PolicySet, now: number): Promise<VerifyAllowed> {
  const reads = deps.reads(undefined);
  const verified: VerifiedApproval[] = [];
  for (const token of tokens) verified.push(await verifyApprovalToken(token, tokenContext(deps, call, reads, policy, now, { coSigned: true })));
  const first = verified[0]!;
  const notMet = (why: string) => new CountersignError('quorum_not_met', why);
  if (verified.some((v) => v.digest !== first.digest || v.claims.agt !== first.claims.agt || v.claims.trc !== first.claims.trc)) {
    throw notMet('the approvals are not of one action (digest, agent and trace id must be the same)');
  }
  const distinct = (pick: (v: (typeof verified)[number]) => string) => new Set(verified.map(pick)).size === verified.length;
  if (!distinct((v) => v.claims.sub) || !distinct((v) => v.claims.iss) || !distinct((v) => v.key.kid)) {
    throw notMet('nobody counts twice: each approval must come from another person, device and key');
  }
  const { principal } = call;
  if (principal?.kind === 'user' && !first.claims.agt.startsWith('user:') && !verified.some((v) => v.claims.sub === principal.id)) {
    throw new CountersignError('action_mismatch', 'none of the approvals is signed by the person whose session the assistant acted in');
  }
  const question = { sub: first.claims.sub, agt: first.claims.agt, scp: first.claims.scp, site: first.claims.aud, facts: actionFacts(call.request, first.content) };
  const needed = await quorumFor(reads, policy, question);
  const people = verified.filter((v) => policyBotName(v.claims.sub) === null).length;
  const counted = needed > 1 ? people : verified.length;
  if (counted < needed) throw notMet(`policy requires ${needed} distinct approvers; the request carries ${counted}`);

  const approvers = verified.map((v) => v.claims.sub);
  const { receipt, row } = await receiptFor(deps, policy, now, first.claims, first.digest, first.content, approvers);
  const entries = verified.map((v) => ({ iss: v.claims.iss, jti: v.claims.jti, expiresAt: v.claims.exp + CLOCK_SKEW_SECONDS }));
  const fresh = await deps.decisions.consumeAndAllow(
    entries,
    { traceId: first.claims.trc, agent: first.claims.agt, approver: approvers.join(','), digest: first.digest, policyVersion: policy.version, kid: first.key.kid },
    now,
    row,
  );
  if (!fresh) throw new TokenRejected('replayed', 'an approval of this request was already used');
  return { allow: true, receipt, traceId: first.claims.trc, agent: first.claims.agt, approver: approvers.join(',') };
}

/**
 * What a refused token claimed (unverified; kept as evidence in the decision record, length-capped).
 * Never the token itself.
 */
function presentedFacts(token: string | undefined): Omit<DecisionFacts, 'code' | 'policyVersion'> {
  const { header, claims } = readPresented(token);
  const str = (v: unknown, max = 256) => (typeof v === 'string' && v.length <= max ? v : null);
  const act = claims.act as { dig?: unknown } | undefined;
  return {
    traceId: TraceId.safeParse(claims.trc).success ? (claims.trc as string) : null,
    agent: str(claims.agt),
    approver: str(claims.sub),
    // Only a well-formed digest: the decision record's schema requires one, and a forged token's junk here
    // must not make `GET /v1/admin/events` fail for its trace.
    digest: Digest.safeParse(act?.dig).success ? (act!.dig as string) : null,
    kid: str(header.kid, 128),
  };
}
