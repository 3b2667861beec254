// Held actions and approvals in the background, against a real verifier: a proposal is persisted
// and logged first; approval signs the stored record once (S-08) under every gate; the token the
// owner signed is accepted by the verifier for exactly that request; expiry and closed tabs end it.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { approveAction, rejectAction } from '@/lib/extension/approvals';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { effectivePolicy } from '@/lib/extension/effective-policy';
import type { PolicyView } from '@/lib/extension/effective-policy';
import { enroll } from '@/lib/extension/enrollment';
import { failActionsOfTab, proposeAction, sweepExpired } from '@/lib/extension/held-actions';
import { killState } from '@/lib/extension/kill-switch';
import { listLog } from '@/lib/extension/log';
import type { ProposalInput } from '@/lib/extension/messages';
import { BUILTIN_ADAPTERS } from '@/lib/adapters/builtin';
import { injectFetch } from '../../helpers/inject-fetch';
import { startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

const PAGE = 'http://127.0.0.1:8080/t/1';
const BODY = '{"body":"Try revoking the group grant.","author_kind":"assistant"}';
const proposal: ProposalInput = {
  kind: 'fetch',
  action: 0,
  request: { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/1/replies', contentType: 'application/json', body: BODY },
  content: 'Try revoking the group grant.',
  signals: ['assistant-marker'],
  agentHint: 'agent:forum-helper',
  diff: { kind: 'text', before: null, after: 'Try revoking the group grant.' },
};

let v: TestVerifier;
let view: PolicyView;
beforeEach(async () => {
  v = await startVerifier('sqlite');
  await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], ['http://127.0.0.1:8080']);
  useDatabase(new CountersignDb(`cs-held-${crypto.randomUUID()}`));
  view = effectivePolicy({ protectedSites: ['http://127.0.0.1/*'], verifierUrl: 'http://verifier.test' }, {}, BUILTIN_ADAPTERS);
  const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
  await enroll({ verifierUrl: 'http://verifier.test', code, label: 't' }, injectFetch(() => v.app));
});
afterEach(() => v.close());

const now = () => v.clock.now;
const gates = (over: Partial<Parameters<typeof approveAction>[1]> = {}) => ({
  policy: view.policy,
  kill: killState(view.policy, { reachable: true, engaged: false, entries: [], policyVersion: 'x', checkedAt: now(), error: null }),
  verifierReachable: true,
  failClosed: view.failClosed,
  now: now(),
  ...over,
});
const propose = (input: ProposalInput = proposal, pageUrl = PAGE) => proposeAction(input, { view, pageUrl, tabId: 7, userId: 'alice', now: now() });

describe('proposing', () => {
  it('persists the action held, with site and tab from the browser, agent from the marker, and logs proposed then held', async () => {
    const row = await propose();
    expect(row).toMatchObject({ state: 'held', site: 'http://127.0.0.1:8080', tabId: 7, spec: { agent: 'agent:forum-helper', scope: 'forum.post', tool: 'intraforum' } });
    expect((await db().actions.get(row.id))?.state).toBe('held');
    expect((await listLog({ trace: row.spec.trc })).map((e) => e.type)).toEqual(['proposed', 'held']);
  });

  it('refuses a request to another origin than the page\'s', async () => {
    await expect(propose({ ...proposal, request: { ...proposal.request, url: 'http://evil.example/api/topics/1/replies' } })).rejects.toMatchObject({ code: 'payload_invalid' });
  });

  it('refuses a page on a site the policy does not protect', async () => {
    const elsewhere = { ...proposal, request: { ...proposal.request, url: 'http://unprotected.example/api/topics/1/replies' } };
    await expect(propose(elsewhere, 'http://unprotected.example/t/1')).rejects.toMatchObject({ code: 'not_protected' });
  });

  it('a person\'s own change (no signals) is held as user:<id>', async () => {
    const row = await propose({ ...proposal, signals: [], agentHint: null });
    expect(row.spec.agent).toBe('user:alice');
  });

  it('on a blocked site an assistant\'s proposal ends blocked, logged', async () => {
    view = effectivePolicy({ protectedSites: ['http://127.0.0.1/*'], blockedSites: ['http://127.0.0.1/*'] }, {}, BUILTIN_ADAPTERS);
    const row = await propose();
    expect(row.state).toBe('blocked');
    expect((await listLog({ trace: row.spec.trc })).map((e) => e.type)).toEqual(['proposed', 'blocked']);
  });
});

describe('approving', () => {
  it('signs the stored record; the verifier accepts that exact request, for that agent', async () => {
    const row = await propose();
    const approved = await approveAction(row.id, gates());
    expect(approved.state).toBe('approved');
    const res = await v.verify({ token: approved.token, request: proposal.request, principal: { kind: 'user', id: 'alice' }, assisted: true });
    expect(res.statusCode).toBe(200);
    expect((await listLog({ trace: row.spec.trc })).map((e) => e.type)).toEqual(['proposed', 'held', 'approved']);
  });

  it('S-08: two approvals at once mint one token', async () => {
    const row = await propose();
    const [a, b] = await Promise.all([approveAction(row.id, gates()), approveAction(row.id, gates())]);
    expect(a.token).toBe(b.token);
    expect((await listLog({ type: 'approved' })).length).toBe(1);
  });

  it('S-09: storage refuses the approval\'s write (quota exceeded): it fails with an error, no token is handed out, the action stays held, nothing is logged approved', async () => {
    const row = await propose();
    // The action's update is refused as a full disk refuses it: the transaction aborts.
    const refuse = () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    db().actions.hook('updating', refuse);
    try {
      await expect(approveAction(row.id, gates())).rejects.toThrow(/quota/i);
    } finally {
      db().actions.hook('updating').unsubscribe(refuse);
    }
    const stored = await db().actions.get(row.id);
    expect(stored?.state).toBe('held');
    expect(stored?.token).toBeFalsy();
    expect((await listLog({ trace: row.spec.trc })).map((e) => e.type)).toEqual(['proposed', 'held']);
    // Once storage works again the same action can be approved, once.
    expect((await approveAction(row.id, gates())).state).toBe('approved');
    expect((await listLog({ type: 'approved' })).length).toBe(1);
  });

  it('S-08: two approvals at once sign once — the second never computes a token of its own', async () => {
    const row = await propose();
    const sign = vi.spyOn(crypto.subtle, 'sign');
    try {
      await Promise.all([approveAction(row.id, gates()), approveAction(row.id, gates())]);
      expect(sign).toHaveBeenCalledTimes(1);
    } finally {
      sign.mockRestore();
    }
  });

  it.each([
    ['the kill switch is on', () => gates({ kill: { engaged: true, reasons: ['x'], verifier: { engaged: true, checkedAt: 0, error: null } } }), 'kill_switch_engaged'],
    ['the verifier is unreachable', () => gates({ verifierReachable: false }), 'verifier_unavailable'],
    ['the site is blocked', () => gates({ policy: { ...view.policy, blockedSites: ['http://127.0.0.1/*'] } }), 'site_blocked'],
    ['an invalid policy names the site', () => gates({ failClosed: ['http://127.0.0.1/*'] }), 'policy_invalid'],
    ['it expired', () => gates({ now: now() + 10 * 60_000 }), 'expired'],
  ])('refuses to sign when %s, and nothing changes', async (_name, g, code) => {
    const row = await propose();
    await expect(approveAction(row.id, g())).rejects.toMatchObject({ code });
    expect((await db().actions.get(row.id))).toMatchObject({ state: 'held', token: null });
  });

  it('refuses when not enrolled', async () => {
    const row = await propose();
    await db().enrollment.clear();
    await expect(approveAction(row.id, gates())).rejects.toMatchObject({ code: 'not_enrolled' });
  });

  it('a rejected action cannot be approved afterwards', async () => {
    const row = await propose();
    await rejectAction(row.id, 'no', now());
    await expect(approveAction(row.id, gates())).rejects.toMatchObject({ code: 'not_pending' });
  });
});

describe('ending', () => {
  it('S-11: held past its TTL → expired, logged; never signed late', async () => {
    const row = await propose();
    const ended = await sweepExpired(row.expiresAt, 120);
    expect(ended.map((r) => r.state)).toEqual(['expired']);
    await expect(approveAction(row.id, gates())).rejects.toMatchObject({ code: 'not_pending' });
    expect((await listLog({ trace: row.spec.trc })).map((e) => e.type)).toEqual(['proposed', 'held', 'expired']);
  });

  it('a closed tab fails what it held, with that reason', async () => {
    const row = await propose();
    await failActionsOfTab(7, 'the tab was closed before release', now());
    expect(await db().actions.get(row.id)).toMatchObject({ state: 'failed', reason: 'the tab was closed before release' });
    expect((await listLog({ trace: row.spec.trc })).at(-1)?.detail).toMatchObject({ reason: 'the tab was closed before release' });
  });
});
