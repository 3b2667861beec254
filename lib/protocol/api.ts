// Request and response bodies of the verifier HTTP API v1 (DESIGN.md), and the error body. Runtime-neutral.
import { z } from 'zod';
import { ActionRequest, Digest, Identifier, LIMITS, Principal, TraceId } from './action';
import { Es256PublicJwk } from './es256';
import { ERROR_CODES } from './errors';
import { LogEvent } from './log-chain';
import { MatchPattern } from './policy';
import { CredentialId, WebAuthnRegistration } from './presence';
import { QUORUM_LIMITS } from './quorum';

export const ErrorCodeSchema = z.enum(ERROR_CODES as [string, ...string[]]);

export const ErrorBody = z.strictObject({
  error: z.strictObject({
    code: ErrorCodeSchema,
    message: z.string(),
    /** Always there: the token's `trc` when it carried one, else the request's own id. */
    traceId: TraceId,
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const EnrollRequest = z.strictObject({
  code: z.string().min(1).max(128),
  /** Checked in full by importEs256PublicJwk; kept loose here so the error can name the member. */
  publicKeyJwk: z.record(z.string(), z.unknown()),
  label: z.string().min(1).max(128),
  /**
   * The device's WebAuthn credential (ES256, user verification), registered over
   * enrollmentChallenge(kid of publicKeyJwk) in the extension's own page; left out where the browser
   * has no authenticator (the device then cannot approve scopes that need presence).
   */
  credential: WebAuthnRegistration.optional(),
});
export type EnrollRequest = z.infer<typeof EnrollRequest>;

export const EnrollResponse = z.strictObject({
  deviceId: Identifier,
  userId: Identifier,
  kid: z.string(),
  /** The credential registered with the device, and the RP id its assertions are made for. */
  presence: z.strictObject({ credentialId: CredentialId, rpId: z.string().min(1).max(256) }).optional(),
});
export type EnrollResponse = z.infer<typeof EnrollResponse>;

export const VerifyRequest = z.strictObject({
  // Not capped at the token limit here: an oversized or empty token is the verifier's
  // token_malformed / token_missing, in DESIGN.md's order, not a schema error.
  token: z.string().max(LIMITS.body).optional(),
  /** Every approval the request carried, when it carried more than one (a quorum); never with `token`. */
  tokens: z.array(z.string().max(LIMITS.body)).min(2).max(QUORUM_LIMITS.maxApprovers).optional(),
  request: ActionRequest,
  /** The scope of the route the request is on: the token's `scp` must equal it. */
  scope: Identifier,
  /** The route's content field (form name or JSON pointer): the verifier reads the post's text for `cdg` itself. */
  contentField: z.string().min(1).max(256).optional(),
  principal: Principal.optional(),
  /** The request carried an assistant marker (then a person's request must name the assistant as `agt`). */
  assisted: z.boolean().optional(),
}).refine((v) => v.token === undefined || v.tokens === undefined, { message: 'token or tokens, not both', path: ['tokens'] });
export type VerifyRequest = z.infer<typeof VerifyRequest>;

export const VerifyResponse = z.strictObject({ allow: z.literal(true), receipt: z.string(), traceId: TraceId });
export type VerifyResponse = z.infer<typeof VerifyResponse>;

export const LogBatchResponse = z.strictObject({ ackedSeq: z.int().min(0) });
export type LogBatchResponse = z.infer<typeof LogBatchResponse>;

export const KillScope = z.enum(['global', 'agent', 'user', 'site']);
export type KillScope = z.infer<typeof KillScope>;

export const KillRequest = z.discriminatedUnion('scope', [
  z.strictObject({ scope: z.literal('global') }),
  z.strictObject({ scope: z.enum(['agent', 'user']), target: Identifier }),
  z.strictObject({ scope: z.literal('site'), target: z.string().min(1).max(LIMITS.url) }),
]);
export type KillRequest = z.infer<typeof KillRequest>;

export const KillEntry = z.strictObject({
  scope: KillScope,
  target: z.string().nullable(),
  /** Milliseconds since 1970. */
  since: z.int().min(0),
});
export type KillEntry = z.infer<typeof KillEntry>;

export const StatusResponse = z.strictObject({
  killSwitch: z.strictObject({ engaged: z.boolean(), entries: z.array(KillEntry) }),
  policyVersion: z.string(),
  time: z.int().min(0),
});
export type StatusResponse = z.infer<typeof StatusResponse>;

export const Jwks = z.strictObject({ keys: z.array(Es256PublicJwk) });
export type Jwks = z.infer<typeof Jwks>;

export const EnrollmentCodeRequest = z.strictObject({ userId: Identifier });
export type EnrollmentCodeRequest = z.infer<typeof EnrollmentCodeRequest>;

export const EnrollmentCodeResponse = z.strictObject({ code: z.string(), expiresAt: z.int().min(0) });
export type EnrollmentCodeResponse = z.infer<typeof EnrollmentCodeResponse>;

export const AgentRegistration = z.strictObject({
  owner: Identifier,
  scopes: z.array(Identifier).max(100),
  sites: z.array(z.union([MatchPattern, z.url()])).max(100),
});
export type AgentRegistration = z.infer<typeof AgentRegistration>;

/** The steps of an agent proposal's life a decision record names (a refusal names its error code). */
export const ProposalStep = z.enum(['proposed', 'approval_counted', 'approved', 'rejected', 'expired', 'handed_out']);
export type ProposalStep = z.infer<typeof ProposalStep>;

/** One verifier decision, allowed or refused, or a step of a proposal, as `GET /v1/admin/events` returns it. */
export const DecisionRecord = z.strictObject({
  id: z.string(),
  ts: z.int().min(0),
  code: z.union([z.literal('allow'), ErrorCodeSchema, ProposalStep]),
  traceId: TraceId.nullable(),
  agent: z.string().nullable(),
  approver: z.string().nullable(),
  digest: Digest.nullable(),
  policyVersion: z.string(),
  /** A policy bot's approval: the @id of the rule that allowed it. */
  rule: z.string().optional(),
});
export type DecisionRecord = z.infer<typeof DecisionRecord>;

export const EventsResponse = z.strictObject({ events: z.array(LogEvent), decisions: z.array(DecisionRecord) });
export type EventsResponse = z.infer<typeof EventsResponse>;

/** The prefix of every agent key: recognisable in a leaked log or a secret scanner's rules. */
export const AGENT_KEY_PREFIX = 'csa_';

/**
 * An agent key as presented (`Authorization: Bearer <key>`, the gateway's `X-Countersign-Agent-Key`):
 * `csa_` + 32 random bytes in canonical base64url (43 characters, the last one carrying no unused bits).
 */
export const AgentKey = z.string().regex(/^csa_[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/, 'csa_ + 32 bytes of base64url');
export type AgentKey = z.infer<typeof AgentKey>;

/** `POST /v1/admin/agents/{agentId}/keys`: the key is in this answer only; the verifier keeps its SHA-256. */
export const AgentKeyCreated = z.strictObject({ keyId: Identifier, key: AgentKey });
export type AgentKeyCreated = z.infer<typeof AgentKeyCreated>;

/** `GET /v1/agents/me`: the agent an agent key belongs to, and which of its keys it is. */
export const AgentIdentity = z.strictObject({ agentId: Identifier, keyId: Identifier });
export type AgentIdentity = z.infer<typeof AgentIdentity>;

/** A tool's origin exactly as `URL.origin` spells it (`https://forum.corp.example`, no path, no trailing slash). */
export const HttpOrigin = z
  .string()
  .max(LIMITS.url)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
    } catch {
      return false;
    }
  }, 'an http(s) origin, e.g. https://forum.corp.example');

export const RECEIPT_LOOKUP_LIMITS = {
  /** Post digests per lookup (one page of posts). */
  cdgs: 100,
  /** Receipts answered per digest, newest first: the same text approved again on one site. */
  perCdg: 5,
} as const;

/** `POST /v1/receipts/lookup`: the receipts the verifier issued on `site` for posts whose text has these `cdg`s. */
export const ReceiptLookupRequest = z.strictObject({
  site: HttpOrigin,
  cdgs: z
    .array(Digest)
    .min(1)
    .max(RECEIPT_LOOKUP_LIMITS.cdgs)
    .refine((cdgs) => new Set(cdgs).size === cdgs.length, 'each cdg at most once'),
});
export type ReceiptLookupRequest = z.infer<typeof ReceiptLookupRequest>;

/** Only the cdgs that have receipts on the site appear; each list is newest first. */
export const ReceiptLookupResponse = z.strictObject({
  receipts: z.record(Digest, z.array(z.string().min(1).max(LIMITS.token)).min(1).max(RECEIPT_LOOKUP_LIMITS.perCdg)),
});
export type ReceiptLookupResponse = z.infer<typeof ReceiptLookupResponse>;
