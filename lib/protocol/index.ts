// The Countersign protocol: one definition shared by extension and verifier. Runtime-neutral:
// Web Crypto, zod and jose only (test/lib/protocol/runtime-neutral.test.ts enforces it).

export {
  ERROR_STATUS,
  ERROR_CODES,
  TOKEN_CHECK_ORDER,
  CHAIN_BREAKS,
  CountersignError,
  TokenRejected,
  PayloadInvalid,
  ChainBroken,
  VerifierUnavailable,
  isErrorCode,
} from './errors';
export type { ErrorCode, TokenErrorCode, ChainBreak, CountersignErrorOptions } from './errors';

export {
  isCanonicalBase64url,
  decodeBase64urlStrict,
  encodeBase64url,
  decodeUtf8Strict,
  utf8,
  sha256,
  sha256Base64url,
  sha256Hex,
  randomBase64url,
  newTraceId,
} from './encoding';
export { parseJsonStrict } from './strict-json';
export type { JsonParseResult } from './strict-json';

export {
  LIMITS,
  TraceId,
  Digest,
  Identifier,
  Principal,
  HttpMethod,
  ActionRequest,
  Diff,
  AuthorshipSignal,
  ActionSpec,
  principalAgentId,
} from './action';

export {
  APPROVAL_FIELD,
  mediaType,
  isJsonMediaType,
  canonicalUrl,
  canonicalAction,
  actionDigest,
  canonicalJson,
} from './digest';
export type { DigestInput, CanonicalAction, CanonicalBody } from './digest';

export { WEB_CRYPTO, useProtocolCrypto, protocolCrypto, isEs256Key } from './crypto-backend';
export type { ProtocolCrypto } from './crypto-backend';

export {
  ECDSA_P256,
  ECDSA_SHA256,
  Es256PublicJwk,
  minimalJwk,
  importEs256PublicJwk,
  jwkThumbprint,
  verifyEs256,
  generateEs256KeyPair,
  exportEs256PublicJwk,
  importEs256Jwks,
} from './es256';

export {
  MAX_TOKEN_BYTES,
  JWS_TYP,
  splitCompactJws,
  parseCompactJws,
  checkProtectedHeader,
  assertJwsSignature,
  signCompactJws,
} from './compact-jws';
export type { JwsTyp, ProtectedHeader, ParsedJws, SplitJws } from './compact-jws';

export type { EnrolledKey, EnrolledKeyLookup } from './device-signed';

export {
  CLOCK_SKEW_SECONDS,
  DEFAULT_APPROVAL_TTL_SECONDS,
  MAX_APPROVAL_TTL_SECONDS,
  ActionBinding,
  ApprovalClaims,
  mintApprovalToken,
  approvalDraft,
  verifyApprovalToken,
  actionFacts,
} from './approval-token';
export type {
  ActionFacts,
  MintApprovalInput,
  ApprovalQuestion,
  PolicyRefusal,
  KillCover,
  ApprovalVerifyContext,
  ConsumeEntry,
  PresenceInput,
  VerifiedApproval,
} from './approval-token';

export { normaliseContent, contentDigest } from './content';
export { ReceiptClaims, mintReceipt, verifyReceipt } from './receipt';
export type { MintReceiptInput, ReceiptVerifyContext, VerifiedReceipt } from './receipt';

export {
  ZERO_HASH,
  MAX_BATCH_EVENTS,
  LogEventType,
  TERMINAL_EVENT_TYPES,
  UnhashedLogEvent,
  LogEvent,
  ChainHead,
  hashEvent,
  appendEvent,
  checkBatch,
  verifyChain,
} from './log-chain';
export type { NewEventFields, ChainState, BatchCheck } from './log-chain';

export { DEVICE_AUTH_SCHEME, DEVICE_PROOF_WINDOW_SECONDS, DeviceProofClaims, mintDeviceProof, verifyDeviceProof } from './device-request';
export type { DeviceProofContext } from './device-request';

export { MAX_LOG_BATCH_BYTES, LogBatchPayload, signLogBatch, verifyLogBatch } from './log-batch';

export {
  APPROVAL_HEADER,
  readTextBodyFields,
  readBodyFields,
  fieldValues,
  hasFieldValue,
  jsonPointer,
  contentSteps,
  contentAt,
  formObject,
} from './request-fields';
export type { BodyFields } from './request-fields';

export { compilePathPattern, matchPath, pathAmbiguity, fillPathTemplate } from './path-pattern';
export type { PathPattern } from './path-pattern';

export { parseMatchPattern, patternIncludes, matchesAny, patternSpecificity, compareSpecificity, bestMatch, siteOfPattern } from './match-pattern';
export type { ParsedMatchPattern, MatchPatternParse } from './match-pattern';

export { MatchPattern, AdminPolicy, AdapterAction, SiteAdapter, parseAdapters, OrganisationPolicy, OrganisationPolicyVersion } from './policy';
export type { AdapterProblem, ParsedAdapters } from './policy';

export {
  ErrorCodeSchema,
  ErrorBody,
  EnrollRequest,
  EnrollResponse,
  VerifyRequest,
  VerifyResponse,
  LogBatchResponse,
  KillScope,
  KillRequest,
  KillEntry,
  StatusResponse,
  Jwks,
  EnrollmentCodeRequest,
  EnrollmentCodeResponse,
  AgentRegistration,
  DecisionRecord,
  ProposalStep,
  EventsResponse,
  AgentIdentity,
  AgentKey,
  AgentKeyCreated,
  HttpOrigin,
  ReceiptLookupRequest,
  ReceiptLookupResponse,
  RECEIPT_LOOKUP_LIMITS,
} from './api';

export {
  PROPOSAL_LIMITS,
  ProposalId,
  ProposalState,
  ProposalCreateRequest,
  ProposalCreated,
  ProposalStatus,
  PendingProposal,
  ProposalList,
  ProposalDecision,
  ProposalDecided,
  Quorum,
  HeldActionPublication,
  ApprovalPlanRequest,
  ApprovalPlan,
  BotApproval,
  BotApprovalRecord,
  BotApprovalList,
} from './proposals';

export {
  QUORUM_LIMITS,
  POLICY_BOT_PREFIX,
  PolicyBotName,
  policyBotId,
  policyBotName,
  ApprovalTokens,
  splitApprovalTokens,
  joinApprovalTokens,
} from './quorum';

export {
  PresenceRequirement,
  CredentialId,
  WebAuthnAssertion,
  WebAuthnRegistration,
  presenceChallenge,
  enrollmentChallenge,
  assertionChallenge,
  clientDataOf,
} from './presence';
