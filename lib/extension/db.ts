// The extension's one IndexedDB database (Dexie): device key, enrollment, pending actions, the log
// chain, JWKS and receipt caches, settings. Extension origin only (background, popup, options):
// a content script's IndexedDB is the page's, so content scripts ask the background instead.
import Dexie from 'dexie';
import type { EntityTable } from 'dexie';
import type { ActionSpec, ChainHead, Es256PublicJwk, LogEvent, NewEventFields, PresenceRequirement } from '../protocol';
import type { ActionState } from './held-action-states';

export type { ActionState } from './held-action-states';

export interface DeviceKeyRow {
  /** `device`: the key in use; `next`: a fresh key made for enrolling again (enrollment.ts), in use once that enrollment succeeds. */
  id: 'device' | 'next';
  /** Non-extractable ECDSA P-256 private key: structured-cloned into IndexedDB, never exported. */
  privateKey: CryptoKey;
  publicJwk: Es256PublicJwk;
  kid: string;
  createdAt: number;
}

export interface EnrollmentRow {
  id: 'current';
  verifierUrl: string;
  deviceId: string;
  userId: string;
  kid: string;
  label: string;
  enrolledAt: number;
  /**
   * The WebAuthn credential registered with the device (DESIGN.md, "User presence"), and the RP id
   * the options page created it for (its assertions are asked for that same id); absent when the
   * device enrolled without one (it cannot approve scopes that need presence). Not indexed.
   */
  presence?: { credentialId: string; rpId: string };
}

export interface PendingActionRow {
  id: string;
  state: ActionState;
  spec: ActionSpec;
  /** The canonical digest of `spec.request`, computed when the action was held. */
  digest: string;
  site: string;
  tabId: number | null;
  createdAt: number;
  expiresAt: number;
  /** The signed approval, stored with the record so a crash after signing re-delivers the same token. */
  token: string | null;
  reason: string | null;
  updatedAt: number;
  /** The content script's id for the submission, so that a re-sent proposal finds this row (S-01, S-02). */
  proposalId?: string;
  /** Where the body carries the post's text (the adapter action's `content`), so the popup shows the rest beside it. Not indexed: no schema change. */
  contentField?: string;
  /**
   * The verifier's approval plan, asked when it was held: how many distinct people policy requires
   * (absent: not known, the verifier did not answer; approving asks again). Not indexed: no schema change.
   */
  quorum?: number;
  /** The plan's presence requirement (`uv`: approving asks for a user-verified assertion); absent: not known. Not indexed. */
  presence?: PresenceRequirement;
  /** A policy bot's rule approved it at once: the bot's name and the rule's id (its token is `token`). */
  bot?: { bot: string; rule: string };
  /** Awaiting other approvers: the id of the proposal its owner's approval published on the verifier, once published. */
  published?: string;
  /** Every approval, in order, once the quorum is met: the released request carries them all. */
  tokens?: string[];
  /** Who approved, in order (people's ids, or `policy-bot:<name>`), once known. */
  approvers?: string[];
}

/** A chained log event; `synced` is 0 until the verifier acknowledged it (IndexedDB cannot index booleans). */
export interface LogRow extends LogEvent {
  synced: 0 | 1;
}

/** Events recorded before the device was enrolled: chained at enrollment, so none is lost. */
export interface UnchainedLogRow {
  id: string;
  fields: NewEventFields;
}

export interface ChainRow {
  id: 'chain';
  deviceId: string;
  epoch: number;
  head: ChainHead | null;
}

export interface JwksRow {
  kid: string;
  jwk: Es256PublicJwk;
  fetchedAt: number;
}

export interface ReceiptCacheRow {
  receipt: string;
  verdict: unknown;
  checkedAt: number;
}

/**
 * The challenge an approval with presence signs (presence.ts), kept until that approval is minted: the
 * `jti`, `iat` and `exp` the token will carry and the digest it binds, one per held action or agent
 * proposal (`key` = `<kind>:<id>`), replaced by a new ask. Kept in IndexedDB, so the worker stopping
 * while the person touches the authenticator loses nothing.
 */
export interface PresenceDraftRow {
  key: string;
  kind: 'held' | 'proposal';
  id: string;
  dig: string;
  jti: string;
  iat: number;
  exp: number;
  /** presenceChallenge({dig, jti, exp}): what the assertion's clientDataJSON must carry. */
  challenge: string;
  createdAt: number;
}

/** One setting (settings.ts): `v` is the version of its value's format, 1 when absent. Not indexed: no schema change. */
export interface SettingRow {
  key: string;
  value: unknown;
  v?: number;
}

export class CountersignDb extends Dexie {
  keys!: EntityTable<DeviceKeyRow, 'id'>;
  enrollment!: EntityTable<EnrollmentRow, 'id'>;
  actions!: EntityTable<PendingActionRow, 'id'>;
  log!: EntityTable<LogRow, 'id'>;
  unchained!: EntityTable<UnchainedLogRow, 'id'>;
  chain!: EntityTable<ChainRow, 'id'>;
  jwks!: EntityTable<JwksRow, 'kid'>;
  receipts!: EntityTable<ReceiptCacheRow, 'receipt'>;
  settings!: EntityTable<SettingRow, 'key'>;
  presenceDrafts!: EntityTable<PresenceDraftRow, 'key'>;

  constructor(name = 'countersign') {
    // Strict durability: a transaction reports complete only once its data is on disk, so a
    // service-worker or browser crash right after "held" or "approved" loses nothing.
    super(name, { chromeTransactionDurability: 'strict' });
    this.version(1).stores({
      keys: 'id',
      enrollment: 'id',
      actions: 'id, state, expiresAt, tabId',
      log: 'id, [epoch+seq], synced, trc, agent, type',
      unchained: 'id',
      chain: 'id',
      jwks: 'kid',
      receipts: 'receipt',
      settings: 'key',
    });
    // Version 2 adds the presence drafts' table (empty at first: nothing to migrate).
    this.version(2).stores({ presenceDrafts: 'key' });
  }
}

let instance: CountersignDb | undefined;

/** The extension's database (one per context). */
export function db(): CountersignDb {
  instance ??= new CountersignDb();
  return instance;
}

/** Tests: a fresh database under another name. */
export function useDatabase(database: CountersignDb): void {
  instance = database;
}
