// Countersign's error classes with stable codes (jose's style). Runtime-neutral.
// Messages never contain a token, a body or a key: they are safe to log.

/** Every error code of DESIGN.md, with its HTTP status. `not_found` is the JSON 404 for unknown routes. */
export const ERROR_STATUS = {
  token_missing: 401,
  unauthorized: 401,
  token_malformed: 400,
  payload_invalid: 400,
  not_found: 404,
  alg_not_allowed: 403,
  typ_invalid: 403,
  header_not_allowed: 403,
  key_unknown: 403,
  key_revoked: 403,
  signature_invalid: 403,
  token_expired: 403,
  token_not_yet_valid: 403,
  ttl_too_long: 403,
  audience_mismatch: 403,
  action_mismatch: 403,
  approver_not_authorized: 403,
  self_approval: 403,
  kill_switch_engaged: 403,
  site_blocked: 403,
  code_invalid: 403,
  /** The gateway: an agent's mutating request that matches no listed route (agents may do only what is listed). */
  route_not_protected: 403,
  /** Policy requires more distinct approvers than the request's valid approvals name; none is consumed. */
  quorum_not_met: 403,
  /** Policy requires the person's presence for this scope and the approval carries no user-verified assertion (`wa`), or its device has no credential. */
  presence_required: 403,
  /** The approval's assertion fails a check: type, challenge, origin, RP id, UP/UV flags, signature, credential or sign count. */
  presence_invalid: 403,
  replayed: 409,
  chain_broken: 409,
  /** A proposal already decided (or expired): the first decision wins (DESIGN.md, "Agent proposals"). */
  already_decided: 409,
  payload_too_large: 413,
  /** Over a proposal limit: 20 pending per approver, 5 new a minute per agent. */
  rate_limited: 429,
  /** The gateway: the tool behind it did not answer (a departure from DESIGN.md, which names no code for it). */
  upstream_unavailable: 502,
  verifier_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** The codes a token check can end in, in the order DESIGN.md checks them. */
export const TOKEN_CHECK_ORDER = [
  'token_missing',
  'token_malformed',
  'alg_not_allowed',
  'typ_invalid',
  'header_not_allowed',
  'key_unknown',
  'key_revoked',
  'signature_invalid',
  'token_expired',
  'token_not_yet_valid',
  'ttl_too_long',
  'audience_mismatch',
  'payload_invalid',
  'action_mismatch',
  'approver_not_authorized',
  'self_approval',
  'site_blocked',
  'kill_switch_engaged',
  'presence_required',
  'presence_invalid',
  'replayed',
] as const satisfies readonly ErrorCode[];

export type TokenErrorCode = (typeof TOKEN_CHECK_ORDER)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}

export interface CountersignErrorOptions {
  cause?: unknown;
  /** The trace id of the action refused (an approval's `trc`), when one is known. */
  traceId?: string | undefined;
}

/**
 * Base class of every Countersign error. `code` is stable; `message` is for people; `traceId`, when
 * set, is the trace the refusal is answered under (DESIGN.md: the token's `trc` when it carried one).
 */
export class CountersignError extends Error {
  readonly code: ErrorCode;
  declare readonly traceId?: string;

  constructor(code: ErrorCode, message: string, options?: CountersignErrorOptions) {
    super(message, options);
    this.name = 'CountersignError';
    this.code = code;
    if (options?.traceId !== undefined) this.traceId = options.traceId;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** A token (approval, receipt or log batch JWS) failed one of its checks. */
export class TokenRejected extends CountersignError {
  declare readonly code: TokenErrorCode;

  constructor(code: TokenErrorCode, message: string, options?: CountersignErrorOptions) {
    super(code, message, options);
    this.name = 'TokenRejected';
  }
}

/** A body, field or request failed its schema; `field` names where (a dotted path). */
export class PayloadInvalid extends CountersignError {
  declare readonly code: 'payload_invalid';
  readonly field: string | undefined;

  constructor(message: string, field?: string, options?: CountersignErrorOptions) {
    super('payload_invalid', field ? `${field}: ${message}` : message, options);
    this.name = 'PayloadInvalid';
    this.field = field;
  }
}

/** The ways a submitted log batch can fail to continue a device's chain. */
export const CHAIN_BREAKS = ['gap', 'fork', 'reorder', 'rewrite', 'splice'] as const;
export type ChainBreak = (typeof CHAIN_BREAKS)[number];

/** A log batch does not continue the device's chain; `reason` says how, `seq` where. */
export class ChainBroken extends CountersignError {
  declare readonly code: 'chain_broken';
  readonly reason: ChainBreak;
  readonly epoch: number;
  readonly seq: number;

  constructor(reason: ChainBreak, epoch: number, seq: number, message: string) {
    super('chain_broken', `${reason} at epoch ${epoch} seq ${seq}: ${message}`);
    this.name = 'ChainBroken';
    this.reason = reason;
    this.epoch = epoch;
    this.seq = seq;
  }
}

/** The verifier could not be reached or could not decide: callers fail closed. */
export class VerifierUnavailable extends CountersignError {
  declare readonly code: 'verifier_unavailable';

  constructor(message: string, options?: CountersignErrorOptions) {
    super('verifier_unavailable', message, options);
    this.name = 'VerifierUnavailable';
  }
}
