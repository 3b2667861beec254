// The verifier's tables as Kysely types, one definition for SQLite and PostgreSQL. Node only.
// Times are milliseconds since 1970 unless a column says seconds; JSON columns hold text.

export interface EnrollmentCodeTable {
  code_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface DeviceTable {
  kid: string;
  device_id: string;
  user_id: string;
  label: string;
  public_jwk: string;
  created_at: number;
  revoked_at: number | null;
}

export interface AgentTable {
  agent_id: string;
  owner: string;
  scopes: string;
  sites: string;
  updated_at: number;
}

/** Consumed approvals, keyed on the verified (iss, jti) — never on the token's bytes. */
export interface ConsumedTable {
  iss: string;
  jti: string;
  /** Seconds: exp + skew; the row may be pruned after it. */
  expires_at: number;
}

export interface DecisionTable {
  id: string;
  ts: number;
  code: string;
  trace_id: string | null;
  agent: string | null;
  approver: string | null;
  digest: string | null;
  policy_version: string;
  kid: string | null;
  /** A policy bot's approval: the @id of the rule that allowed it. */
  rule: string | null;
}

export interface LogEventTable {
  device_id: string;
  epoch: number;
  seq: number;
  hash: string;
  trc: string | null;
  type: string;
  ts: number;
  event: string;
  received_at: number;
}

export interface ChainHeadTable {
  device_id: string;
  epoch: number;
  seq: number;
  hash: string;
  frozen_at: number | null;
}

/** A batch that contradicted an acknowledged chain, kept as evidence. */
export interface ChainEvidenceTable {
  id: string;
  device_id: string;
  epoch: number;
  seq: number;
  reason: string;
  stored_hash: string | null;
  received: string;
  received_at: number;
}

export interface KillTable {
  id: string;
  scope: string;
  target: string | null;
  since: number;
  lifted_at: number | null;
}

export interface PolicyTable {
  version: string;
  text: string;
  created_at: number;
  active: number;
}

export interface ReceiptKeyTable {
  kid: string;
  public_jwk: string;
  private_jwk: string;
  created_at: number;
  retired_at: number | null;
}

export interface OrganisationPolicyTable {
  version: number;
  document: string;
  created_at: number;
}

export interface Database {
  enrollment_codes: EnrollmentCodeTable;
  devices: DeviceTable;
  agents: AgentTable;
  consumed: ConsumedTable;
  decisions: DecisionTable;
  log_events: LogEventTable;
  chain_heads: ChainHeadTable;
  chain_evidence: ChainEvidenceTable;
  kills: KillTable;
  policies: PolicyTable;
  receipt_keys: ReceiptKeyTable;
  organisation_policies: OrganisationPolicyTable;
  agent_keys: AgentKeyTable;
  receipts: ReceiptTable;
  proposals: ProposalTable;
  proposal_approvers: ProposalApproverTable;
  proposal_approvals: ProposalApprovalTable;
  bot_keys: BotKeyTable;
  webauthn_credentials: WebAuthnCredentialTable;
  presence_admitted: PresenceAdmittedTable;
}

/** One approval of a proposal (several when policy requires a quorum): one per person, one per key. */
export interface ProposalApprovalTable {
  proposal_id: string;
  user_id: string;
  device_id: string;
  kid: string;
  /** The approval token (a credential: handed out only, never logged). */
  token: string;
  approved_at: number;
}

/** A policy bot's signing keys; the public half is also a `devices` row (device and user `policy-bot:<name>`), so tokens verify as any other. */
export interface BotKeyTable {
  kid: string;
  name: string;
  private_jwk: string;
  created_at: number;
  /** When a newer key replaced it (it is then revoked in `devices`). */
  retired_at: number | null;
}

/** An agent's API key: only its SHA-256 is kept (the key itself is shown once, when it is made). */
export interface AgentKeyTable {
  key_id: string;
  /** Lower-case hex SHA-256 of the whole key (`csa_…`); unique, the only way a key is found. */
  key_hash: string;
  agent_id: string;
  created_at: number;
  revoked_at: number | null;
}

/** Every receipt the verifier issued, kept for readers' lookups by (site, cdg). */
export interface ReceiptTable {
  /** The receipt's own `jti`. */
  jti: string;
  /** The token's `aud`: the tool's origin. */
  site: string;
  cdg: string | null;
  /** The receipt as issued (compact JWS). */
  receipt: string;
  issued_at: number;
}

/** An agent's proposal (DESIGN.md, "Agent proposals"). */
export interface ProposalTable {
  id: string;
  agent_id: string;
  /** The agent key it was made with. */
  key_id: string;
  scope: string;
  summary: string;
  /** The ActionRequest as JSON text: exactly what the agent will send. */
  request: string;
  content_field: string | null;
  digest: string;
  /** The request's origin (the token's `aud`). */
  site: string;
  trace_id: string;
  /** pending, approved, rejected, expired. */
  state: string;
  /** The approval token (a credential: handed to the agent only, never logged). */
  token: string | null;
  reason: string | null;
  /** The user who decided. */
  decided_by: string | null;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  /** When the agent first fetched the token. */
  handed_out_at: number | null;
  /** The distinct approvers it needs. */
  quorum: number;
  /** A held in-page action published by its first approver's extension: that user and device. */
  published_by: string | null;
  publisher_device: string | null;
}

/** Who may approve a proposal, fixed by policy when it was made. */
export interface ProposalApproverTable {
  proposal_id: string;
  user_id: string;
}

/** A device's WebAuthn credential (user presence), registered at enrollment; revoked with its device. */
export interface WebAuthnCredentialTable {
  device_id: string;
  user_id: string;
  /** The device key it was registered with (enrollmentChallenge(kid)). */
  kid: string;
  /** Base64url credential id. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  /** The highest sign count seen. */
  sign_count: number;
  /** The extension origin pinned at enrollment (clientDataJSON's origin). */
  origin: string;
  /** The RP id whose SHA-256 is the credential's rpIdHash. */
  rp_id: string;
  created_at: number;
}

/** Approvals whose assertion passed (and advanced the sign count): checked again later, they pass again. */
export interface PresenceAdmittedTable {
  iss: string;
  jti: string;
  sign_count: number;
  /** Seconds: the token's exp + skew; pruned with consumed approvals. */
  expires_at: number;
}
