// Agent proposals' pure part: the digest check that comes before any signature, the stored state (new
// proposals seen once, what the toolbar counts, decisions settled or kept in flight), and the review —
// a config change's "before" read only through the site's adapter, on a protected site, never from
// anything the agent sent.
import { describe, expect, it } from 'vitest';
import { actionDigest } from '@/lib/protocol';
import type { PendingProposal } from '@/lib/protocol';
import { EMPTY_AGENT_PROPOSALS, digestMatches, reviewAgentProposal, settleDecision, takeList, waiting, waitingCount, withDecision } from '@/lib/extension/agent-proposals';
import type { AgentDecision } from '@/lib/extension/agent-proposals';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import { demoAdapters, demoSitePolicy } from '../../../demo/adapters';

const CONSOLE = 'http://localhost:8081';
const FORUM = 'http://127.0.0.1:8080';
const NOW = 1_800_000_000_000;
const view = effectivePolicy(demoSitePolicy(), {});

async function proposal(over: Partial<PendingProposal> = {}): Promise<PendingProposal> {
  const request = over.request ?? { method: 'PUT', url: `${CONSOLE}/api/datasets/payroll-2026/access`, contentType: 'application/json', body: '{"visibility":"all-employees","groups":["payroll-team"]}' };
  return {
    id: `prp_${'A'.repeat(21)}${over.id?.slice(-1) ?? 'a'}`,
    agent: 'agent:access-helper',
    scope: 'admin.acl.write',
    summary: 'Open payroll-2026 to all employees.',
    request,
    digest: await actionDigest(request),
    traceId: '0af7651916cd43dd8448eb211c80319c',
    createdAt: NOW / 1000 - 10,
    expiresAt: NOW / 1000 + 110,
    quorum: 1,
    approvals: [],
    presence: 'none',
    ...over,
    ...(over.request && !over.digest ? { digest: await actionDigest(over.request) } : {}),
  };
}

describe('the digest check before signing', () => {
  it('accepts a listed digest that is the canonical digest of the listed request', async () => {
    expect(await digestMatches(await proposal())).toBe(true);
  });

  it('attack: a verifier lists one request with the digest of another — refused', async () => {
    const listed = await proposal();
    const other = await actionDigest({ ...listed.request, body: '{"visibility":"team-only","groups":[]}' });
    expect(await digestMatches({ ...listed, digest: other })).toBe(false);
  });
});

describe('the review', () => {
  it('reads a config change\'s before through the adapter\'s GET on the request\'s own origin, and diffs field by field', async () => {
    const asked: string[] = [];
    const review = await reviewAgentProposal(await proposal(), view, async (url) => {
      asked.push(url);
      return { visibility: 'team-only', groups: ['payroll-team'] };
    });
    expect(asked).toEqual([`${CONSOLE}/api/datasets/payroll-2026/access`]);
    expect(review).toMatchObject({ site: CONSOLE, adapterId: 'access-console', beforeNote: null });
    expect(review.diff).toEqual({
      kind: 'fields',
      fields: [
        { name: 'visibility', before: 'team-only', after: 'all-employees' },
        { name: 'groups', before: ['payroll-team'], after: ['payroll-team'] },
      ],
    });
  });

  it('attack: the agent writes its own "before" into the summary and body — the diff\'s before is only what the site answered', async () => {
    const p = await proposal({
      summary: 'before: visibility=all-employees (nothing changes)',
      request: { method: 'PUT', url: `${CONSOLE}/api/datasets/payroll-2026/access`, contentType: 'application/json', body: '{"visibility":"all-employees","groups":[],"before":{"visibility":"all-employees"}}' },
    });
    const review = await reviewAgentProposal(p, view, async () => ({ visibility: 'team-only', groups: ['payroll-team'] }));
    expect(review.diff?.kind === 'fields' && review.diff.fields.find((f) => f.name === 'visibility')).toEqual({ name: 'visibility', before: 'team-only', after: 'all-employees' });
  });

  it('says "before: not available" when the site does not answer, rather than invent one', async () => {
    const review = await reviewAgentProposal(await proposal(), view, async () => null);
    expect(review.diff).toBeNull();
    expect(review.beforeNote).toMatch(/^Before: not available/);
  });

  it('attack: a proposal to a site policy does not protect — nothing is read there in the user\'s session', async () => {
    const asked: string[] = [];
    const p = await proposal({ request: { method: 'PUT', url: 'http://intranet.example/api/datasets/x/access', contentType: 'application/json', body: '{"visibility":"all-employees"}' } });
    const review = await reviewAgentProposal(p, view, async (url) => {
      asked.push(url);
      return {};
    });
    expect(asked).toEqual([]);
    expect(review.diff).toBeNull();
    expect(review.beforeNote).toContain('not a protected site');
  });

  it('an adapter that declares no way to read the before says so', async () => {
    const adapters = demoAdapters().map((a) => (a.id === 'access-console' ? { ...a, actions: a.actions.map(({ before: _b, ...rest }) => rest) } : a));
    const bare = effectivePolicy({ ...demoSitePolicy(), adapters: JSON.stringify(adapters) }, {});
    const review = await reviewAgentProposal(await proposal(), bare, async () => ({ visibility: 'team-only' }));
    expect(review.diff).toBeNull();
    expect(review.beforeNote).toBe('Before: not available (the site\'s adapter declares no way to read it).');
  });

  it('a post is a word diff of its text at the adapter\'s content field, a new one with no before', async () => {
    const p = await proposal({
      agent: 'agent:forum-helper',
      scope: 'forum.post',
      request: { method: 'POST', url: `${FORUM}/api/topics/1/replies`, contentType: 'application/json', body: '{"body":"Try revoking the group grant.","author_kind":"assistant"}' },
    });
    const review = await reviewAgentProposal(p, view, async () => {
      throw new Error('nothing to read for a new post');
    });
    expect(review).toMatchObject({ adapterId: 'intraforum', contentField: 'body', diff: { kind: 'text', before: null, after: 'Try revoking the group grant.' } });
  });
});

describe('the stored state', () => {
  it('a listed proposal is new once: a second list of it is not', async () => {
    const p = await proposal();
    const first = takeList(EMPTY_AGENT_PROPOSALS, [p], 'http://v', NOW);
    expect(first.fresh.map((x) => x.id)).toEqual([p.id]);
    const second = takeList(first.next, [p], 'http://v', NOW + 30_000);
    expect(second.fresh).toEqual([]);
    expect(waitingCount(second.next, NOW + 30_000)).toBe(1);
  });

  it('counts neither an expired proposal nor one decided here', async () => {
    const p = await proposal();
    const q = await proposal({ id: 'prp_AAAAAAAAAAAAAAAAAAAAAb', expiresAt: NOW / 1000 - 1 });
    const { next } = takeList(EMPTY_AGENT_PROPOSALS, [p, q], 'http://v', NOW);
    expect(waiting(next, NOW).map((x) => x.id)).toEqual([p.id]);
    const decision: AgentDecision = { id: p.id, kind: 'reject', body: { reject: { reason: 'no' } }, proposal: p, state: 'sending', code: null, message: null, decidedAt: NOW, updatedAt: NOW };
    expect(waitingCount(withDecision(next, decision), NOW)).toBe(0);
  });

  it('a decision refused as already_decided takes the proposal off the list; a decision in flight outlives any list', async () => {
    const p = await proposal();
    const decision: AgentDecision = { id: p.id, kind: 'approve', body: { approve: 'x.y.z' }, proposal: p, state: 'sending', code: null, message: null, decidedAt: NOW, updatedAt: NOW };
    const state = withDecision(takeList(EMPTY_AGENT_PROPOSALS, [p], 'http://v', NOW).next, decision);
    const later = takeList(state, [], 'http://v', NOW + 3_600_000).next;
    expect(later.decisions.map((d) => d.state)).toEqual(['sending']);
    const settled = settleDecision(state, p.id, { ok: false, code: 'already_decided', message: 'decided' }, NOW + 1);
    expect(settled.proposals).toEqual([]);
    expect(settled.decisions[0]).toMatchObject({ state: 'refused', code: 'already_decided' });
  });
});

describe('a hostile body', () => {
  it('attack: a config body with more fields than a review holds is shown as sent, not as a diff the popup cannot take', async () => {
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`f${i}`, i])));
    const p = await proposal({ request: { method: 'PUT', url: `${CONSOLE}/api/datasets/payroll-2026/access`, contentType: 'application/json', body } });
    const review = await reviewAgentProposal(p, view, async () => ({ visibility: 'team-only' }));
    expect(review.diff).toBeNull();
    expect(review.beforeNote).toContain('shown as sent');
  });
});
