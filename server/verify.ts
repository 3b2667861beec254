// The verify decision shared by `POST /v1/verify` and the in-process middleware: DESIGN.md's checks,
// then the receipt, written with the replay insert and the decision record in one transaction. Node only.
import type { EnrolledKey, Principal } from '../lib/protocol';
import {
  CountersignError,
  MAX_APPROVAL_TTL_SECONDS,
  Digest,
  TraceId,
  VerifierUnavailable,
  contentAt,
  mintReceipt,
  readBodyFields,
  verifyApprovalToken,
} from '../lib/protocol';
import type { VerifierMetrics } from './metrics';
import type { PolicySet } from './policy/engine';
import { readPresented } from './presented-token';
import type { DecisionFacts, DecisionWriter } from './store/decisions';
import type { ReceiptSigner } from './store/receipt-keys';
import { receiptRow } from './store/receipts';
import type { VerifyReads } from './store/verify-reads';

export interface VerifyCall {
  token?: string | undefined;
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
  /** The durable writes: replay insert with its allow record, refusal records. */
  decisions: DecisionWriter;
  lookupKey(kid: string): Promise<EnrolledKey | undefined>;
  /** The registry reads of one verify (key, agent, kills), given the token presented. */
  reads(token: unknown): VerifyReads;
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
 * Decides one approval. Every call, allowed or refused, leaves a decision record. Throws a
 * CountersignError with DESIGN.md's code; a storage failure is `verifier_unavailable` (fail closed).
 */
export async function verifyAction(deps: VerifyDeps, call: VerifyCall): Promise<VerifyAllowed> {
  const stop = deps.metrics.verifySeconds.startTimer();
  const policy = deps.policy();
  const now = deps.now();
  try {
    const reads = deps.reads(call.token);
    const signer = deps.signer();
    let issued: string | undefined;
    const verified = await verifyApprovalToken(call.token, {
      lookupKey: reads.lookupKey,
      request: call.request,
      scope: call.scope,
      contentField: call.contentField,
      principal: call.principal,
      assisted: call.assisted,
      now: Math.floor(now / 1000),
      maxTtlSeconds: Math.min(deps.approvalTtlSeconds, MAX_APPROVAL_TTL_SECONDS),
      bootEpoch: deps.bootEpoch,
      authorize: async (q) => policy.decide({ ...q, agent: await reads.lookupAgent(q.agt) }),
      kills: reads.killsCovering,
      // Called only once every other check passed. The receipt is minted here, before the jti is
      // consumed, so that it is stored (for lookup by site and cdg) in the same transaction as the
      // consumption and the allow record: a receipt a tool was handed is always findable, and it
      // costs no commit of its own. A replay's receipt is never stored nor answered.
      consume: async (entry) => {
        // The same text verifyApprovalToken read from the same bytes (it has just succeeded, and the
        // read is deterministic); its result reaches us only after the consumption.
        const content = call.contentField === undefined ? null : contentAt(await readBodyFields(call.request.contentType, call.request.body), call.contentField);
        const { receipt, claims } = await mintReceipt({
          privateKey: signer.privateKey,
          kid: signer.kid,
          issuer: deps.issuer,
          agent: entry.claims.agt,
          approver: entry.claims.sub,
          traceId: entry.claims.trc,
          digest: entry.digest,
          policyVersion: policy.version,
          content,
          now: Math.floor(now / 1000),
        });
        const fresh = await deps.decisions.consumeAndAllow(
          entry,
          { traceId: entry.claims.trc, agent: entry.claims.agt, approver: entry.claims.sub, digest: entry.digest, policyVersion: policy.version, kid: entry.kid },
          now,
          receiptRow({ jti: claims.jti, site: entry.claims.aud, cdg: claims.cdg, receipt }, now),
        );
        if (fresh) issued = receipt;
        return fresh;
      },
    });
    const { claims } = verified;
    if (issued === undefined) throw new VerifierUnavailable('the verifier could not issue a receipt');
    const receipt = issued;
    deps.metrics.decisions.inc({ code: 'allow' });
    return { allow: true, receipt, traceId: claims.trc, agent: claims.agt, approver: claims.sub };
  } catch (error) {
    const refusal = error instanceof CountersignError ? error : new VerifierUnavailable('the verifier could not decide', { cause: error });
    deps.metrics.decisions.inc({ code: refusal.code });
    const facts = { ...presentedFacts(call.token), code: refusal.code, policyVersion: policy.version };
    await deps.decisions.recordRefusal(facts, now).catch(() => undefined);
    // Answered with the same code and message, under the token's trace when it carried one.
    throw facts.traceId ? new CountersignError(refusal.code, refusal.message, { cause: refusal, traceId: facts.traceId }) : refusal;
  } finally {
    stop();
  }
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
