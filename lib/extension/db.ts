// The extension's one IndexedDB database (Dexie): device key, enrollment, pending actions, the log
// chain, JWKS and receipt caches, settings. Extension origin only (background, popup, options):
// a content script's IndexedDB is the page's, so content scripts ask the background instead.
import Dexie from 'dexie';
import type { EntityTable } from 'dexie';
import type { ActionSpec, ChainHead, Es256PublicJwk, LogEvent, NewEventFields } from '../protocol';
import type { ActionState } from './held-action-states';

export type { ActionState } from './held-action-states';

export interface DeviceKeyRow {
  id: 'device';
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
