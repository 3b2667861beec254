// Schema migrations for SQLite and PostgreSQL through Kysely's schema builder. Node only.
import { Migrator } from 'kysely';
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { driverReason } from './reason';

// `bigint` holds millisecond times on PostgreSQL; SQLite stores every integer the same way.
const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('enrollment_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createTable('devices')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('agents')
        .addColumn('agent_id', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('sites', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('consumed')
        .addColumn('iss', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('consumed_pk', ['iss', 'jti'])
        .execute();
      await db.schema
        .createTable('decisions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('trace_id', 'text')
        .addColumn('agent', 'text')
        .addColumn('approver', 'text')
        .addColumn('digest', 'text')
        .addColumn('policy_version', 'text', (c) => c.notNull())
        .addColumn('kid', 'text')
        .execute();
      await db.schema.createIndex('decisions_trace').on('decisions').column('trace_id').execute();
      await db.schema
        .createTable('log_events')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('epoch', 'integer', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('trc', 'text')
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('log_events_pk', ['device_id', 'epoch', 'seq'])
        .execute();
      await db.schema.createIndex('log_events_trace').on('log_events').column('trc').execute();
      await db.schema
        .createTable('chain_heads')
        .addColumn('device_id', 'text', (c) => c.primaryKey())
        .addColumn('epoch', 'integer', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('frozen_at', 'bigint')
        .execute();
      await db.schema
        .createTable('chain_evidence')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('epoch', 'integer', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('stored_hash', 'text')
        .addColumn('received', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('kills')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('since', 'bigint', (c) => c.notNull())
        .addColumn('lifted_at', 'bigint')
        .execute();
      await db.schema
        .createTable('policies')
        .addColumn('version', 'text', (c) => c.primaryKey())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('receipt_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .execute();
      // Used by the replay-cache pruning.
      await db.schema.createIndex('consumed_expiry').on('consumed').column('expires_at').execute();
    },
  },
  // The organisation's extension policy (DESIGN.md, "Organisation policy from the verifier"): every
  // version kept, the highest one in force.
  '0002_organisation_policy': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('organisation_policies')
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  // Agent keys (DESIGN.md, "Agent proposals"): found only by the key's hash, exactly. A key belongs to
  // its agent's registration: removing the agent removes its keys, so re-registering the same id
  // later never brings an old key back.
  '0003_agent_keys': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('agent_keys')
        .addColumn('key_id', 'text', (c) => c.primaryKey())
        .addColumn('key_hash', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.agent_id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('agent_keys_hash').unique().on('agent_keys').column('key_hash').execute();
      await db.schema.createIndex('agent_keys_agent').on('agent_keys').column('agent_id').execute();
    },
  },
  // Issued receipts, for readers' badges on tools that cannot render them (DESIGN.md, "The gateway").
  // (site, cdg) finds them; issued_at last in the index so that "newest first" needs no sort.
  '0004_receipts': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('receipts')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('cdg', 'text')
        .addColumn('receipt', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('receipts_site_cdg').on('receipts').columns(['site', 'cdg', 'issued_at']).execute();
    },
  },
  // Agent proposals (DESIGN.md, "Agent proposals"): one row per proposal, its state moved only from
  // `pending` by one conditional update (the first decision wins); who may approve it, fixed when it
  // was made, in proposal_approvers. Indexes serve the per-agent rate limit, the expiry sweep and the
  // per-approver list and limit.
  '0005_proposals': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('proposals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('content_field', 'text')
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('trace_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('token', 'text')
        .addColumn('reason', 'text')
        .addColumn('decided_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('decided_at', 'bigint')
        .addColumn('handed_out_at', 'bigint')
        .execute();
      await db.schema.createIndex('proposals_agent_created').on('proposals').columns(['agent_id', 'created_at']).execute();
      await db.schema.createIndex('proposals_state_expiry').on('proposals').columns(['state', 'expires_at']).execute();
      await db.schema
        .createTable('proposal_approvers')
        .addColumn('proposal_id', 'text', (c) => c.notNull().references('proposals.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('proposal_approvers_pk', ['proposal_id', 'user_id'])
        .execute();
      await db.schema.createIndex('proposal_approvers_user').on('proposal_approvers').columns(['user_id', 'proposal_id']).execute();
    },
  },
  '0006_quorum_and_bots': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('decisions').addColumn('rule', 'text').execute();
      await db.schema.alterTable('proposals').addColumn('quorum', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await db.schema.alterTable('proposals').addColumn('published_by', 'text').execute();
      await db.schema.alterTable('proposals').addColumn('publisher_device', 'text').execute();
      await db.schema
        .createTable('proposal_approvals')
        .addColumn('proposal_id', 'text', (c) => c.notNull().references('proposals.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('kid', 'text', (c) => c.notNull())
        .addColumn('token', 'text', (c) => c.notNull())
        .addColumn('approved_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('proposal_approvals_pk', ['proposal_id', 'user_id'])
        .addUniqueConstraint('proposal_approvals_kid', ['proposal_id', 'kid'])
        .addUniqueConstraint('proposal_approvals_device', ['proposal_id', 'device_id'])
        .execute();
      await db.schema
        .createTable('bot_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('private_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .execute();
      await db.schema.createIndex('bot_keys_name').on('bot_keys').columns(['name', 'created_at']).execute();
      await db.schema.createIndex('decisions_approver_ts').on('decisions').columns(['approver', 'ts']).execute();
    },
  },
  '0007_presence': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webauthn_credentials')
        .addColumn('device_id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('kid', 'text', (c) => c.notNull())
        .addColumn('credential_id', 'text', (c) => c.notNull().unique())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('sign_count', 'bigint', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('rp_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('presence_admitted')
        .addColumn('iss', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('sign_count', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('presence_admitted_pk', ['iss', 'jti'])
        .execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Brings the database to the latest schema; throws with the failing migration's name and the
 * database's reason. Kysely's Migrator returns its failure as `{error}` rather than throwing, with no
 * migration named when none could run (the database refused before: a lock, a permission).
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = driverReason(error);
    throw new Error(failed ? `migration ${failed} failed: ${reason}` : `could not migrate the database: ${reason}`, { cause: error });
  }
}

