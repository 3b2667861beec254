// The proposal store on SQLite and PostgreSQL: one conditional update decides a proposal however many
// decisions race (each step recorded once), concurrent expiry sweeps expire and record each proposal
// once, a proposal past its expiry is never decided even before a sweep, the token's hand-out is
// recorded once, and the per-approver counts and lists leave out expired and others' proposals.
// Node only (tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionsForTrace } from '../../../server/store/decisions/records';
import { decideProposal, expireDue, insertProposal, markHandedOut, pendingCounts, pendingFor, pendingRow, proposalById, stepFacts, withCreationLock } from '../../../server/store/proposals';
import type { Decided, ProposalRow } from '../../../server/store/proposals';
import { DATABASES, FORUM_REQUEST, startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

const POLICY = 'test-policy';

describe.each(DATABASES)('the proposal store (%s)', (kind) => {
  let v: TestVerifier;
  // Far from the verifier's own clock, so its sweeps never touch these rows.
  let now = 4_000_000_000_000;

  beforeAll(async () => {
    v = await startVerifier(kind);
  });
  afterAll(() => v.close());

  async function stored(approvers: string[] = ['alice'], ttlMs = 120_000): Promise<ProposalRow> {
    const row = pendingRow({
      agentId: 'agent:forum-helper',
      keyId: 'k1',
      scope: 'forum.post',
      summary: 'Reply',
      request: FORUM_REQUEST,
      contentField: null,
      digest: 'A'.repeat(43),
      site: 'http://127.0.0.1:8080',
      createdAt: now,
      expiresAt: now + ttlMs,
    });
    await withCreationLock(v.database, (trx) => insertProposal(trx, row, approvers));
    return row;
  }
  const codes = async (row: ProposalRow) => (await decisionsForTrace(v.database.db, row.trace_id)).map((d) => d.code);

  it('attack: eight decisions racing on one proposal — exactly one update wins and only its step is recorded', async () => {
    for (let round = 0; round < 3; round++) {
      const row = await stored();
      const decisions: Decided[] = Array.from({ length: 8 }, (_, i) =>
        i % 2 === 0 ? { state: 'approved', token: `token-${i}`, approver: 'alice' } : { state: 'rejected', reason: `no ${i}`, approver: 'alice' },
      );
      const won = await Promise.all(decisions.map((d) => decideProposal(v.database.db, row, d, stepFacts(row, d.state, POLICY, 'alice'), now)));
      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = decisions[won.indexOf(true)]!;
      const after = (await proposalById(v.database.db, row.id))!;
      expect(after.state).toBe(winner.state);
      expect(after.token).toBe(winner.state === 'approved' ? winner.token : null);
      expect(await codes(row)).toEqual([winner.state]);
    }
  });

  it('a proposal past its expiry is not decided even before any sweep has expired it', async () => {
    const row = await stored();
    const late = now + 120_000;
    expect(await decideProposal(v.database.db, row, { state: 'rejected', reason: 'late', approver: 'alice' }, stepFacts(row, 'rejected', POLICY, 'alice'), late)).toBe(false);
    expect((await proposalById(v.database.db, row.id))!.state).toBe('pending');
    expect(await codes(row)).toEqual([]);
  });

  it('concurrent sweeps expire each due proposal once, each with one expired record; a decided or unexpired one is left alone', async () => {
    now += 10 * 60_000;
    // What earlier tests left pending is past its expiry by now.
    await expireDue(v.database.db, now, POLICY);
    const due = [await stored(['alice'], 1000), await stored(['alice'], 1000)];
    const decided = await stored(['alice'], 1000);
    expect(await decideProposal(v.database.db, decided, { state: 'rejected', reason: 'no', approver: 'alice' }, stepFacts(decided, 'rejected', POLICY, 'alice'), now)).toBe(true);
    const fresh = await stored(['alice'], 60_000);
    const swept = await Promise.all([1, 2, 3].map(() => expireDue(v.database.db, now + 1000, POLICY)));
    expect(swept.flat().sort()).toEqual(due.map((r) => r.id).sort());
    for (const row of due) {
      expect((await proposalById(v.database.db, row.id))!.state).toBe('expired');
      expect(await codes(row)).toEqual(['expired']);
    }
    expect(await codes(decided)).toEqual(['rejected']);
    expect((await proposalById(v.database.db, fresh.id))!.state).toBe('pending');
    expect(await expireDue(v.database.db, now + 1000, POLICY)).toEqual([]);
  });

  it('the token hand-out is recorded once, however many polls fetch it at once', async () => {
    const row = await stored();
    expect(await decideProposal(v.database.db, row, { state: 'approved', token: 't', approver: 'alice' }, stepFacts(row, 'approved', POLICY, 'alice'), now)).toBe(true);
    await Promise.all([1, 2, 3, 4].map(() => markHandedOut(v.database.db, row, stepFacts(row, 'handed_out', POLICY, 'alice'), now)));
    expect(await codes(row)).toEqual(['approved', 'handed_out']);
  });

  it('counts and lists hold only the approver\'s own unexpired pending proposals, oldest first', async () => {
    now += 10 * 60_000;
    const first = await stored(['carol', 'dave']);
    now += 1000;
    const second = await stored(['carol']);
    await stored(['dave']);
    await stored(['carol'], 500);
    const decided = await stored(['carol']);
    expect(await decideProposal(v.database.db, decided, { state: 'rejected', reason: 'no', approver: 'carol' }, stepFacts(decided, 'rejected', POLICY, 'carol'), now)).toBe(true);
    const at = now + 600;
    const counts = await v.database.db.transaction().execute((trx) => pendingCounts(trx, ['carol', 'dave', 'erin'], at));
    expect(Object.fromEntries(counts)).toEqual({ carol: 2, dave: 2 });
    expect((await pendingFor(v.database.db, 'carol', at, 100)).map((p) => p.id)).toEqual([first.id, second.id]);
    expect((await pendingFor(v.database.db, 'carol', at, 1)).map((p) => p.id)).toEqual([first.id]);
    expect(await pendingFor(v.database.db, 'erin', at, 100)).toEqual([]);
  });
});
