// The active Cedar policy and receipt signer this verifier decides with, kept equal to the database's:
// read again before each request decides (on PostgreSQL one query for all the requests of an
// event-loop turn), so a policy made active or a key rotated through any replica counts on every
// replica from the next request on. Node only.
import type { DatabaseHandle } from './db/connect';
import { compilePolicy, defaultPolicyText } from './policy/engine';
import type { PolicySet } from './policy/engine';
import { loadActivePolicy } from './store/policies';
import { activeReceiptSigner } from './store/receipt-keys';
import type { ReceiptSigner } from './store/receipt-keys';

export interface RegistryState {
  readonly policy: PolicySet;
  readonly signer: ReceiptSigner;
}

export interface Registry {
  /** What the last completed read found (or what this replica last set). */
  current(): RegistryState;
  /**
   * Resolves once a read of the database that began after this call has been applied: a policy or a
   * signer committed before the call is then current(). Rejects if the database cannot be read.
   */
  refresh(): Promise<void>;
  /** This replica made `policy` active / rotated to `signer` itself. */
  setPolicy(policy: PolicySet): void;
  setSigner(signer: ReceiptSigner): void;
}

/** Compiled policies by version: flipping back to an earlier policy compiles nothing. */
const MAX_COMPILED = 16;

export function registry(database: DatabaseHandle, initial: RegistryState, now: () => number): Registry {
  const { db } = database;
  const defaultVersion = compilePolicy(defaultPolicyText()).version;
  const read = database.prepare([], () =>
    db.selectNoFrom((eb) => [
      eb.selectFrom('policies').select('version').where('active', '=', 1).limit(1).as('policy_version'),
      eb.selectFrom('receipt_keys').select('kid').where('retired_at', 'is', null).orderBy('created_at', 'desc').limit(1).as('signer_kid'),
    ]),
  );
  const compiled = new Map<string, PolicySet>([[initial.policy.version, initial.policy]]);
  let state = initial;
  // Reads and sets are numbered; a read's result is applied only if nothing newer was applied first
  // (a slow read never puts back the policy an admin just replaced).
  let issued = 0;
  let applied = 0;
  let scheduled: Promise<void> | undefined;

  async function policyAt(version: string): Promise<PolicySet> {
    const known = compiled.get(version);
    if (known) return known;
    const policy = await loadActivePolicy(db);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(policy.version, policy);
    return policy;
  }

  async function check(seq: number): Promise<void> {
    const [row] = await read({});
    const wantPolicy = row?.policy_version ?? defaultVersion;
    const wantSigner = row?.signer_kid ?? state.signer.kid;
    const policy = wantPolicy === state.policy.version ? state.policy : await policyAt(wantPolicy);
    const signer = wantSigner === state.signer.kid ? state.signer : await activeReceiptSigner(db, now());
    if (seq > applied) {
      applied = seq;
      state = { policy, signer };
    }
  }

  return {
    current: () => state,
    refresh() {
      // SQLite's read runs at once, synchronously on this thread (db/prepared.ts): nothing to share.
      if (database.dialect === 'sqlite') return check(++issued);
      // PostgreSQL: join the read not yet sent (it begins after this call), so the requests of one
      // event-loop turn cost one round trip; once sent, the next caller schedules another.
      scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        scheduled = undefined;
        return check(++issued);
      });
      return scheduled;
    },
    setPolicy(policy) {
      compiled.set(policy.version, policy);
      applied = ++issued;
      state = { ...state, policy };
    },
    setSigner(signer) {
      applied = ++issued;
      state = { ...state, signer };
    },
  };
}
