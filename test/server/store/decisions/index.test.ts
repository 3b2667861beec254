// The durable decision writes on SQLite and PostgreSQL (the writer createDecisionWriter picks): one
// consumption per (iss, jti) even inside one group, a bad row fails only its caller, and an allow's
// receipt is kept exactly when its consumption is. SQLite's group commit on its own is
// sqlite.test.ts. Node only (tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecisionWriter } from '../../../../server/store/decisions';
import type { DecisionFacts, DecisionWriter } from '../../../../server/store/decisions';
import { receiptRow } from '../../../../server/store/receipts';
import { DATABASES, T0, startVerifier } from '../../../helpers/verifier';
import type { TestVerifier } from '../../../helpers/verifier';

const facts: Omit<DecisionFacts, 'code'> = { traceId: null, agent: 'agent:a', approver: 'alice', digest: null, policyVersion: 'sha256:0000000000000000', kid: 'k' };
let next = 0;
const freshJti = () => `jti-${process.pid}-${next++}-aaaaaaaaaaaaaaaa`;

describe.each(DATABASES)('decision writer (%s)', (kind) => {
  let v: TestVerifier;
  let writer: DecisionWriter;

  beforeAll(async () => {
    v = await startVerifier(kind);
    writer = createDecisionWriter(v.database);
  });
  afterAll(async () => {
    await writer.close();
    await v.close();
  });

  async function rows(jti: string): Promise<{ consumed: number; allows: number }> {
    const consumed = await v.database.db.selectFrom('consumed').select('jti').where('jti', '=', jti).execute();
    const allows = await v.database.db.selectFrom('decisions').select('id').where('kid', '=', jti).where('code', '=', 'allow').execute();
    return { consumed: consumed.length, allows: allows.length };
  }

  it('A-02: 30 uses of one jti queued together → exactly one consumes it, 29 read as replayed, one allow record', async () => {
    const jti = freshJti();
    const results = await Promise.all(Array.from({ length: 30 }, () => writer.consumeAndAllow({ iss: 'dev_a', jti, expiresAt: 2_000_000_000 }, { ...facts, kid: jti }, T0)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await rows(jti)).toEqual({ consumed: 1, allows: 1 });
  });

  it('A-01: the same jti in a later group is refused too, and another issuer\'s equal jti is not', async () => {
    const jti = freshJti();
    expect(await writer.consumeAndAllow({ iss: 'dev_a', jti, expiresAt: 2_000_000_000 }, facts, T0)).toBe(true);
    expect(await writer.consumeAndAllow({ iss: 'dev_a', jti, expiresAt: 2_000_000_000 }, facts, T0)).toBe(false);
    expect(await writer.consumeAndAllow({ iss: 'dev_b', jti, expiresAt: 2_000_000_000 }, facts, T0)).toBe(true);
  });

  it('a bad row fails only its own caller: the rest of the group is committed', async () => {
    const good = [freshJti(), freshJti()];
    const bad = freshJti();
    const settled = await Promise.allSettled([
      writer.consumeAndAllow({ iss: 'dev_a', jti: good[0]!, expiresAt: 2_000_000_000 }, { ...facts, kid: good[0]! }, T0),
      // policy_version is NOT NULL: this row's decision insert fails, and its consumption with it.
      writer.consumeAndAllow({ iss: 'dev_a', jti: bad, expiresAt: 2_000_000_000 }, { ...facts, kid: bad, policyVersion: null as unknown as string }, T0),
      writer.recordRefusal({ ...facts, code: 'replayed' }, T0),
      writer.consumeAndAllow({ iss: 'dev_a', jti: good[1]!, expiresAt: 2_000_000_000 }, { ...facts, kid: good[1]! }, T0),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(await rows(good[0]!)).toEqual({ consumed: 1, allows: 1 });
    expect(await rows(good[1]!)).toEqual({ consumed: 1, allows: 1 });
    // The failed row left nothing behind: the token is not burnt by a write that was refused.
    expect(await rows(bad)).toEqual({ consumed: 0, allows: 0 });
  });

  async function receipts(jti: string): Promise<string[]> {
    return (await v.database.db.selectFrom('receipts').select('receipt').where('jti', '=', jti).execute()).map((r) => r.receipt);
  }
  const receiptFor = (jti: string, site = 'https://forum.corp.example') => receiptRow({ jti: `r-${jti}`, site, cdg: 'c'.repeat(43), receipt: `receipt-of-${jti}` }, T0);

  it('an allow\'s receipt is stored with its consumption and decision; a replay in the same group stores none', async () => {
    const jti = freshJti();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        writer.consumeAndAllow({ iss: 'dev_a', jti, expiresAt: 2_000_000_000 }, { ...facts, kid: jti }, T0, receiptRow({ jti: `r-${jti}-${i}`, site: 'https://forum.corp.example', cdg: undefined, receipt: `receipt-${i}` }, T0)),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await v.database.db.selectFrom('receipts').selectAll().where('jti', 'like', `r-${jti}-%`).execute();
    // Exactly the winner's receipt: the one whose call answered true.
    expect(stored).toEqual([{ jti: `r-${jti}-${results.indexOf(true)}`, site: 'https://forum.corp.example', cdg: null, receipt: `receipt-${results.indexOf(true)}`, issued_at: T0 }]);
    expect(await rows(jti)).toEqual({ consumed: 1, allows: 1 });
  });

  it('a replay in a later group stores no receipt', async () => {
    const jti = freshJti();
    expect(await writer.consumeAndAllow({ iss: 'dev_a', jti, expiresAt: 2_000_000_000 }, facts, T0, receiptFor(jti))).toBe(true);
    expect(await writer.consumeAndAllow({ iss: 'dev_a', jti, expiresAt: 2_000_000_000 }, facts, T0, receiptFor(`${jti}-again`))).toBe(false);
    expect(await receipts(`r-${jti}`)).toEqual([`receipt-of-${jti}`]);
    expect(await receipts(`r-${jti}-again`)).toEqual([]);
  });

  it('one transaction: a receipt that cannot be stored undoes its consumption and decision, and only its caller fails', async () => {
    const taken = freshJti();
    expect(await writer.consumeAndAllow({ iss: 'dev_a', jti: taken, expiresAt: 2_000_000_000 }, facts, T0, receiptFor(taken))).toBe(true);
    const bad = freshJti();
    const good = freshJti();
    const settled = await Promise.allSettled([
      // Its receipt jti is already stored (primary key): the receipt insert fails inside the transaction.
      writer.consumeAndAllow({ iss: 'dev_a', jti: bad, expiresAt: 2_000_000_000 }, { ...facts, kid: bad }, T0, receiptFor(taken)),
      writer.consumeAndAllow({ iss: 'dev_a', jti: good, expiresAt: 2_000_000_000 }, { ...facts, kid: good }, T0, receiptFor(good)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'fulfilled']);
    // The token whose receipt was not kept is not burnt and has no allow record.
    expect(await rows(bad)).toEqual({ consumed: 0, allows: 0 });
    expect(await rows(good)).toEqual({ consumed: 1, allows: 1 });
    expect(await receipts(`r-${good}`)).toEqual([`receipt-of-${good}`]);
  });
});
