// The proposal store on SQLite and PostgreSQL: one conditional update decides a proposal however many
// decisions race (each step recorded once), concurrent expiry sweeps expire and record each proposal
// once, a proposal past its expiry is never decided even before a sweep, the token's hand-out is
// recorded once, and the per-approver counts and lists leave out expired and others' proposals.
// Node only (tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionsForTrace } from '../../../server/store/decisions/records';
import { approvalsOf, expireDue, insertProposal, markHandedOut, pendingCounts, pendingFor, pendingRow, proposalById, recordApproval, rejectProposal, stepFacts, withCreationLock } from '../../../server/store/proposals';
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

  async function stored(approvers: string[] = ['alice'], ttlMs = 120_000, quorum = 1): Promise<ProposalRow> {
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
      quorum,
    });
    await withCreationLock(v.database, (trx) => insertProposal(trx, row, approvers));
    return row;
  }
  const codes = async (row: ProposalRow) => (await decisionsForTrace(v.database.db, row.trace_id)).map((d) => d.code);
  /** One decision as the verifier takes it: an approval counted towards the quorum, or a rejection; true when it decided the proposal. */
  async function decideAs(row: ProposalRow, d: Decided, at = now): Promise<boolean> {
    if (d.state === 'rejected') return rejectProposal(v.database.db, row, d, stepFacts(row, 'rejected', POLICY, d.approver), at);
    const approval = { user_id: d.approver, device_id: `dev-${d.approver}`, kid: `kid-${d.approver}`, token: d.token };
    return (await recordApproval(v.database, row, approval, stepFacts(row, 'approved', POLICY, d.approver), at)) === 'approved';
  }

  it('attack: eight decisions racing on one proposal — exactly one update wins and only its step is recorded', async () => {
    for (let round = 0; round < 3; round++) {
      const row = await stored();
      const decisions: Decided[] = Array.from({ length: 8 }, (_, i) =>
        i % 2 === 0 ? { state: 'approved', token: `token-${i}`, approver: `user-${i}` } : { state: 'rejected', reason: `no ${i}`, approver: `user-${i}` },
      );
      const won = await Promise.all(decisions.map((d) => decideAs(row, d)));
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
    expect(await decideAs(row, { state: 'rejected', reason: 'late', approver: 'alice' }, late)).toBe(false);
    expect(await decideAs(row, { state: 'approved', token: 't', approver: 'alice' }, late)).toBe(false);
    expect((await proposalById(v.database.db, row.id))!.state).toBe('pending');
    expect(await codes(row)).toEqual([]);
  });

  it('concurrent sweeps expire each due proposal once, each with one expired record; a decided or unexpired one is left alone', async () => {
    now += 10 * 60_000;
    // What earlier tests left pending is past its expiry by now.
    await expireDue(v.database.db, now, POLICY);
    const due = [await stored(['alice'], 1000), await stored(['alice'], 1000)];
    const decided = await stored(['alice'], 1000);
    expect(await decideAs(decided, { state: 'rejected', reason: 'no', approver: 'alice' })).toBe(true);
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
    expect(await decideAs(row, { state: 'approved', token: 't', approver: 'alice' })).toBe(true);
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
    expect(await decideAs(decided, { state: 'rejected', reason: 'no', approver: 'carol' })).toBe(true);
    const at = now + 600;
    const counts = await v.database.db.transaction().execute((trx) => pendingCounts(trx, ['carol', 'dave', 'erin'], at));
    expect(Object.fromEntries(counts)).toEqual({ carol: 2, dave: 2 });
    expect((await pendingFor(v.database.db, 'carol', at, 100)).map((p) => p.id)).toEqual([first.id, second.id]);
    expect((await pendingFor(v.database.db, 'carol', at, 1)).map((p) => p.id)).toEqual([first.id]);
    expect(await pendingFor(v.database.db, 'erin', at, 100)).toEqual([]);
  });

  it('attack: two approvals of a two-person proposal arriving together — both counted, the proposal approved exactly once', async () => {
    for (let round = 0; round < 3; round++) {
      const row = await stored(['alice', 'bob', 'carol'], 120_000, 2);
      const outcomes = await Promise.all(['alice', 'bob', 'carol'].map((u) =>
        recordApproval(v.database, row, { user_id: u, device_id: `dev-${u}`, kid: `kid-${u}`, token: `token-${u}` }, stepFacts(row, 'approved', POLICY, u), now),
      ));
      expect(outcomes.filter((o) => o === 'approved')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'counted')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'not_pending')).toHaveLength(1);
      expect((await proposalById(v.database.db, row.id))!.state).toBe('approved');
      expect((await approvalsOf(v.database.db, [row.id])).get(row.id)).toHaveLength(2);
      expect(await codes(row)).toEqual(['approval_counted', 'approved']);
    }
  });

  it('attack: one person, or one device key under two users, approving twice counts once', async () => {
    const row = await stored(['alice', 'bob'], 120_000, 2);
    const approve = (user: string, kid: string, device: string) => recordApproval(v.database, row, { user_id: user, device_id: device, kid, token: `t-${user}-${kid}` }, stepFacts(row, 'approved', POLICY, user), now);
    expect(await approve('alice', 'kid-a', 'dev-a')).toBe('counted');
    expect(await approve('alice', 'kid-a2', 'dev-a2')).toBe('already_approved');
    expect(await approve('bob', 'kid-a', 'dev-b')).toBe('already_approved');
    expect(await approve('bob', 'kid-b', 'dev-a')).toBe('already_approved');
    expect((await proposalById(v.database.db, row.id))!.state).toBe('pending');
    expect(await approve('bob', 'kid-b', 'dev-b')).toBe('approved');
  });

  it('an approver who already approved no longer sees the proposal in their list; the others still do', async () => {
    const row = await stored(['alice', 'bob'], 120_000, 2);
    await recordApproval(v.database, row, { user_id: 'alice', device_id: 'dev-a', kid: 'kid-a', token: 't' }, stepFacts(row, 'approved', POLICY, 'alice'), now);
    expect((await pendingFor(v.database.db, 'alice', now, 100)).map((p) => p.id)).not.toContain(row.id);
    const listed = (await pendingFor(v.database.db, 'bob', now, 100)).find((p) => p.id === row.id)!;
    expect(listed.quorum).toBe(2);
    expect(listed.approvals.map((a) => a.approver)).toEqual(['alice']);
  });
});
