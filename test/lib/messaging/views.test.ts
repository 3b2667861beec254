// The views' schemas take what their producers make: the router checks every answer against them
// and fails closed (internal) on a mismatch, so a schema stricter than its producer would break the
// popup, the options page or the badges. Each producer is run on the cases that shape its value most
// (problems, adapters, an organisation policy joined, every verdict state).
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { BadgeConfig, ExtensionStateView, KillStateView, PolicyView, SiteConfig, Verdict, VerifierStatusView } from '@/lib/messaging/views';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import { siteConfig } from '@/lib/policy/site-adapters';
import { killState } from '@/lib/extension/kill-switch';
import { verdictFor } from '@/lib/extension/post-verdicts';
import { generateEs256KeyPair, mintReceipt, newTraceId } from '@/lib/protocol';
import type { SiteAdapter } from '@/lib/protocol/index';

const takes = (schema: z.ZodType, value: unknown) => expect(schema.safeParse(value).error?.issues ?? []).toEqual([]);

const forum: SiteAdapter = {
  id: 'forum',
  match: ['http://127.0.0.1:8080/*'],
  agent: 'agent:forum-helper',
  actions: [{ scope: 'forum.post', request: { method: 'POST', url: '/api/topics/*/replies' }, content: '/body', before: { get: '/api/topics/*' } }],
  assistant: { selectors: ['.by-assistant'], headers: ['X-Assistant'], fields: { via: 'assistant' } },
  posts: { container: 'article', author: '.author', body: '.body', receipt: 'data-receipt' },
};
const bad = { id: 'payroll', match: ['https://payroll.corp.example/*', 'https://*.bad*/'], actions: [], posts: { container: 'article', author: null } };

const views = {
  'the defaults': effectivePolicy({}, undefined),
  'managed adapters, one bad (problems with adapter ids, sites failed closed)': effectivePolicy({ protectedSites: ['http://127.0.0.1:8080/*', 'not a pattern'], adapters: JSON.stringify([forum, bad]), killSwitch: true }, { strictMode: true, verifierPolicy: 'off' }),
  'an organisation policy joined': effectivePolicy({ verifierUrl: 'https://verifier.corp.example', approvalTtlSeconds: 60 }, {}, [], { version: 3, updatedAt: 1_700_000_000_000, policy: { protectedSites: ['https://wiki.corp.example/*'], assistantAccounts: ['agent:org'], approvalTtlSeconds: 30, adapters: [forum], unknownKey: 1 } }),
  'a built-in adapter': effectivePolicy({}, {}, [forum]),
};

describe('the views take what their producers make', () => {
  it.each(Object.entries(views))('PolicyView: effectivePolicy with %s', (_name, view) => {
    takes(PolicyView, view);
  });

  it('the cases above shape the view as they say (problems, fail-closed sites, a joined organisation)', () => {
    expect(views['managed adapters, one bad (problems with adapter ids, sites failed closed)'].problems.some((p) => p.adapterId === 'payroll')).toBe(true);
    expect(views['managed adapters, one bad (problems with adapter ids, sites failed closed)'].failClosed.length).toBeGreaterThan(0);
    expect(views['an organisation policy joined'].verifier).toEqual({ version: 3, updatedAt: 1_700_000_000_000 });
  });

  it.each([
    ['a protected page with its adapter', 'http://127.0.0.1:8080/t/1'],
    ['a page no policy names', 'https://elsewhere.example/'],
  ])('SiteConfig: siteConfig on %s', (_name, url) => {
    takes(SiteConfig, siteConfig(views['managed adapters, one bad (problems with adapter ids, sites failed closed)'], url));
  });

  it('BadgeConfig: the badge handler\'s shape, with and without an adapter\'s posts', () => {
    for (const posts of [forum.posts!, null]) takes(BadgeConfig, { posts, markerSelectors: forum.assistant!.selectors!, assistantAccounts: [], mark: { kind: 'pattern', seed: '0a1b2c3d4e' } });
    takes(BadgeConfig, { posts: null, markerSelectors: [], assistantAccounts: ['agent:x'], mark: { kind: 'text', text: 'CS' } });
  });

  it('KillStateView: killState, off and engaged by the policy and the verifier', () => {
    const row = { url: 'http://verifier.test', reachable: true, engaged: true, entries: [{ scope: 'agent', target: 'agent:x', since: 1 }, { scope: 'global', target: null, since: 2 }], policyVersion: 'v1', checkedAt: 3, error: null };
    takes(KillStateView, killState(views['the defaults'].policy, { ...row, engaged: false, entries: [] }));
    takes(KillStateView, killState(views['managed adapters, one bad (problems with adapter ids, sites failed closed)'].policy, row, 'managed + verifier (version 3)'));
  });

  it('ExtensionStateView: the get-state handler\'s shape, enrolled and not', () => {
    const status = { url: null, reachable: false, policyVersion: null, checkedAt: null, error: null };
    takes(VerifierStatusView, status);
    const state = {
      enrollment: { verifierUrl: 'http://127.0.0.1:8787', userId: 'alice', deviceId: 'd1', kid: 'k1', label: 'laptop', enrolledAt: 1 },
      kid: 'k1',
      policy: views['an organisation policy joined'],
      kill: killState(views['the defaults'].policy, { ...status, engaged: false, entries: [] }),
      sync: { pending: 0, lastSyncedAt: null, lastError: null },
      verifierStatus: status,
      organisationPolicy: { enabled: true, version: null, verifierUrl: null, updatedAt: null, fetchedAt: null, checkedAt: null, error: null },
      badgeMark: { kind: 'pattern', seed: '0a1b2c3d4e' },
    };
    takes(ExtensionStateView, state);
    takes(ExtensionStateView, { ...state, enrollment: null });
  });

  it('Verdict: verdictFor in every state it answers (verified, unverified AI, invalid, none)', async () => {
    const ISSUER = 'https://verifier.corp.example';
    const TEXT = 'Ask the payroll team for a time-boxed grant.';
    const pair = await generateEs256KeyPair();
    const { receipt } = await mintReceipt({ privateKey: pair.privateKey, kid: 'rk-1', issuer: ISSUER, agent: 'agent:forum-helper', approver: 'alice', traceId: newTraceId(), digest: 'A'.repeat(43), policyVersion: 'v1', content: TEXT });
    const keys = { lookup: async (kid: string) => (kid === 'rk-1' ? pair.publicKey : undefined) };
    const ctx = { issuer: ISSUER, assistantAccounts: ['assistant'], keys } as never;
    const verdicts = await Promise.all([
      verdictFor({ receipt, author: 'assistant', content: TEXT, marked: false }, ctx),
      verdictFor({ receipt: null, author: 'assistant', content: 'x', marked: false }, ctx),
      verdictFor({ receipt, author: 'assistant', content: 'changed', marked: true }, ctx),
      verdictFor({ receipt: 'not.a.receipt', author: 'bob', content: 'x', marked: false }, ctx),
      verdictFor({ receipt, author: 'bob', content: TEXT, marked: false }, { ...(ctx as object), issuer: null } as never),
      verdictFor({ receipt: null, author: 'bob', content: 'x', marked: false }, ctx),
    ]);
    expect(verdicts.map((v) => v.state)).toEqual(['verified', 'unverified-ai', 'invalid', 'invalid', 'invalid', 'none']);
    for (const v of verdicts) takes(Verdict, v);
  });
});
