// Held actions and approvals in the background, against a real verifier: a proposal is persisted
// and logged first, as the adapter action its method and URL are (never what the page says); approval
// signs the stored record once (S-08) under every gate; the token the owner signed is accepted by the
// verifier for exactly that request and route scope; expiry and closed tabs end it.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { protocolCrypto } from '@/lib/protocol';
import { approveAction, rejectAction } from '@/lib/extension/approvals';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import type { PolicyView } from '@/lib/policy/effective-policy';
import { enroll } from '@/lib/extension/enrollment';
import { failActionsOfTab, proposeAction, sweepExpired } from '@/lib/extension/held-actions';
import { killState } from '@/lib/extension/kill-switch';
import { listLog } from '@/lib/extension/log';
import type { ProposalInput } from '@/lib/messaging/contract';
import { demoAdapters } from '../../../demo/adapters';
import { injectFetch } from '../../helpers/inject-fetch';
import { startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

const PAGE = 'http://127.0.0.1:8080/t/1';
const BODY = '{"body":"Try revoking the group grant.","author_kind":"assistant"}';
const proposal: ProposalInput = {
  kind: 'fetch',
  request: { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/1/replies', contentType: 'application/json', body: BODY },
  content: 'Try revoking the group grant.',
  signals: ['assistant-marker'],
  agentHint: 'agent:forum-helper',
  diff: { kind: 'text', before: null, after: 'Try revoking the group grant.' },
};

/** The demo's protection as an admin pushes it: the forum on its port, its adapter as policy. */
const demoView = (extra: Record<string, unknown> = {}) => effectivePolicy({ protectedSites: ['http://127.0.0.1:8080/*'], adapters: JSON.stringify(demoAdapters()), ...extra }, {});

let v: TestVerifier;
let view: PolicyView;
beforeEach(async () => {
  v = await startVerifier('sqlite');
  await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], ['http://127.0.0.1:8080']);
  useDatabase(new CountersignDb(`cs-held-${crypto.randomUUID()}`));
  view = demoView({ verifierUrl: 'http://verifier.test' });
  const { code } = (await v.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json() as { code: string };
  await enroll({ verifierUrl: 'http://verifier.test', code, label: 't' }, injectFetch(() => v.app));
});
afterEach(() => v.close());

const now = () => v.clock.now;
const gates = (over: Partial<Parameters<typeof approveAction>[1]> = {}) => ({
  policy: view.policy,
  kill: killState(view.policy, { url: 'http://verifier.test', reachable: true, engaged: false, entries: [], policyVersion: 'x', checkedAt: now(), error: null }),
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
    view = demoView({ blockedSites: ['http://127.0.0.1/*'] });
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
    const res = await v.verify({ token: approved.token, request: proposal.request, scope: 'forum.post', contentField: 'body', principal: { kind: 'user', id: 'alice' }, assisted: true });
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
    const sign = vi.spyOn(protocolCrypto(), 'signEs256');
    try {
      // The plan is known (one approver): no device proof is signed to ask it, only the approval.
      await Promise.all([approveAction(row.id, gates(), async () => 1), approveAction(row.id, gates(), async () => 1)]);
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

describe('the background decides which adapter action a request is (the page never names it)', () => {
  // A wiki an admin protects through policy only, on a port: two actions, the edit's text at a JSON pointer.
  const WIKI = 'http://wiki.corp:8090';
  const wiki = {
    id: 'wiki',
    match: [`${WIKI}/*`],
    agent: 'wiki-helper',
    actions: [
      { scope: 'wiki.comment', request: { method: 'POST', url: '/api/pages/*/comments' }, content: 'text' },
      { scope: 'wiki.edit', request: { method: 'PUT', url: '/api/pages/*' }, content: '/page/text' },
    ],
    assistant: { headers: ['X-Assistant'] },
  };
  const wikiView = () => effectivePolicy({ protectedSites: [`${WIKI}/*`], assistantAccounts: ['wiki-helper', 'summariser'], adapters: JSON.stringify([wiki]) }, {});
  const edit = (url: string, method = 'PUT'): ProposalInput => ({
    kind: 'fetch',
    request: { method, url, contentType: 'application/json', body: '{"page":{"title":"Runbook","text":"Rotate the keys."}}' },
    content: 'Rotate the keys.',
    signals: ['assistant-marker'],
    agentHint: null,
    diff: { kind: 'text', before: null, after: 'Rotate the keys.' },
  });
  const proposeOnWiki = (input: ProposalInput) => proposeAction(input, { view: wikiView(), pageUrl: `${WIKI}/p/runbook`, tabId: 3, userId: 'alice', now: now() });

  it('a request to another action\'s URL is that action: its scope, its content read at its JSON pointer', async () => {
    const row = await proposeOnWiki(edit(`${WIKI}/api/pages/runbook`));
    expect(row.spec).toMatchObject({ tool: 'wiki', scope: 'wiki.edit', agent: 'wiki-helper', content: 'Rotate the keys.' });
    expect(row.contentField).toBe('/page/text');
    const comment = await proposeOnWiki({ ...edit(`${WIKI}/api/pages/runbook/comments`, 'POST'), request: { method: 'POST', url: `${WIKI}/api/pages/runbook/comments`, contentType: 'application/x-www-form-urlencoded', body: 'text=Looks%20good&notify=none' }, content: 'Looks good', diff: { kind: 'text', before: null, after: 'Looks good' } });
    expect(comment.spec.scope).toBe('wiki.comment');
  });

  it('content claimed from a top-level key where the action\'s JSON pointer says otherwise is refused', async () => {
    const input = { ...edit(`${WIKI}/api/pages/runbook`), request: { ...edit('').request, url: `${WIKI}/api/pages/runbook`, body: '{"text":"Harmless.","page":{"text":"Delete the runbook."}}' }, content: 'Harmless.', diff: { kind: 'text' as const, before: null, after: 'Harmless.' } };
    await expect(proposeOnWiki(input)).rejects.toMatchObject({ code: 'payload_invalid' });
  });

  it.each([
    ['a URL matching no action', `${WIKI}/api/admin/users`, 'PUT'],
    ['an action\'s path in another case (a case-insensitive router runs it)', `${WIKI}/API/pages/runbook`, 'PUT'],
    ['an action\'s path with a trailing slash', `${WIKI}/api/pages/runbook/`, 'PUT'],
    ['an action\'s path with a doubled slash', `${WIKI}//api/pages/runbook`, 'PUT'],
    ['an action\'s path with another method (a method override)', `${WIKI}/api/pages/runbook`, 'POST'],
    ['an encoded slash inside a segment', `${WIKI}/api/pages/run%2Fbook`, 'PUT'],
    ['a ; parameter', `${WIKI}/api/pages/runbook;v=2`, 'PUT'],
  ])('refuses %s: on an adapter\'s site only its actions are held', async (_name, url, method) => {
    await expect(proposeOnWiki(edit(url, method))).rejects.toMatchObject({ code: 'action_unknown' });
    expect(await db().actions.count()).toBe(0);
  });

  it('a protected site no adapter matches gets the generic adapter: any non-GET request, scope generic.write', async () => {
    const generic = effectivePolicy({ protectedSites: ['http://tickets.corp:9000/*'] }, {});
    const row = await proposeAction({ ...edit('http://tickets.corp:9000/anything/at/all', 'POST'), content: null, diff: null }, { view: generic, pageUrl: 'http://tickets.corp:9000/t/1', tabId: 3, userId: 'alice', now: now() });
    expect(row.spec).toMatchObject({ tool: 'generic', scope: 'generic.write', agent: 'agent:unknown' });
  });

  it('a port pattern protects its port only', async () => {
    await expect(proposeAction(edit('http://wiki.corp:8091/api/pages/runbook'), { view: wikiView(), pageUrl: 'http://wiki.corp:8091/p/runbook', tabId: 3, userId: 'alice', now: now() })).rejects.toMatchObject({ code: 'not_protected' });
  });
});

describe('a marker header\'s value names the agent only when the policy knows it', () => {
  const WIKI = 'http://wiki.corp:8090';
  const wiki = { id: 'wiki', match: [`${WIKI}/*`], agent: 'wiki-helper', actions: [{ scope: 'wiki.comment', request: { method: 'POST', url: '/api/pages/*/comments' } }] };
  const hinted = (agentHint: string | null, adapters: unknown[] = [wiki]) =>
    proposeAction(
      { kind: 'fetch', request: { method: 'POST', url: `${WIKI}/api/pages/a/comments`, contentType: 'application/json', body: '{}' }, content: null, signals: ['assistant-marker'], agentHint, diff: null },
      { view: effectivePolicy({ protectedSites: [`${WIKI}/*`], assistantAccounts: ['summariser', 'agent:forum-helper'], adapters: JSON.stringify(adapters) }, {}), pageUrl: `${WIKI}/p/a`, tabId: 3, userId: 'alice', now: now() },
    ).then((row) => row.spec.agent);

  it('an agent id in assistantAccounts, with no agent: prefix, is the agent', async () => {
    expect(await hinted('summariser')).toBe('summariser');
    expect(await hinted('agent:forum-helper')).toBe('agent:forum-helper');
  });

  it('the adapter\'s own agent is the agent', async () => {
    expect(await hinted('wiki-helper')).toBe('wiki-helper');
  });

  it('an impersonation attempt — a hint naming an agent the policy does not know — is not believed: the adapter\'s agent', async () => {
    expect(await hinted('payroll-bot')).toBe('wiki-helper');
    expect(await hinted('agent:x/../../admin')).toBe('wiki-helper');
  });

  it('no hint: the adapter\'s agent; no adapter agent either: agent:unknown', async () => {
    expect(await hinted(null)).toBe('wiki-helper');
    const { agent: _a, ...anonymous } = wiki;
    expect(await hinted('payroll-bot', [anonymous])).toBe('agent:unknown');
  });
});
