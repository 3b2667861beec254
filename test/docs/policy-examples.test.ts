// The example policy in docs/policy/ loads and decides as its comments say: the bot inside and outside its rule, the two-person rule, the reviewers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../server/policy/engine';
import type { AgentEntry } from '../../server/policy/engine';

const text = readFileSync(new URL('../../docs/policy/bots-and-two-person-rule.cedar', import.meta.url), 'utf8');
const FORUM = 'http://127.0.0.1:8080';
const ADMIN = 'http://127.0.0.1:8081';
const forumHelper: AgentEntry = { id: 'forum-helper', owner: 'alice', scopes: ['forum.post'], sites: [FORUM] };
const accessHelper: AgentEntry = { id: 'access-helper', owner: 'alice', scopes: ['admin.acl.write'], sites: [ADMIN] };
const reply = { method: 'POST', path: '/api/topics/7/replies', query: '', chars: 120 };

describe('docs/policy/bots-and-two-person-rule.cedar', () => {
  const policy = compilePolicy(text);
  const before = Date.parse('2027-01-01T00:00:00Z');

  it('lets the small-replies bot approve a short reply in topic 7 until the rule expires, and nothing else', () => {
    const ask = (facts = reply, now = before, scp = 'forum.post') => policy.decide({ sub: 'policy-bot:small-replies', agt: 'forum-helper', scp, site: FORUM, agent: forumHelper, facts, now });
    expect(policy.bots).toEqual(['small-replies']);
    expect(ask()).toBeUndefined();
    expect(ask({ ...reply, chars: 500 })).toBe('approver_not_authorized');
    expect(ask({ ...reply, path: '/api/topics/8/replies' })).toBe('approver_not_authorized');
    expect(ask(reply, Date.parse('2027-06-30T00:00:00Z'))).toBe('approver_not_authorized');
  });

  it('requires two people for access changes, one elsewhere; the reviewers may be the second', () => {
    expect(policy.quorum({ agt: 'access-helper', scp: 'admin.acl.write', site: ADMIN, agent: accessHelper, facts: reply })).toBe(2);
    expect(policy.quorum({ agt: 'user:alice', scp: 'admin.acl.write', site: ADMIN, agent: undefined, facts: reply })).toBe(2);
    expect(policy.quorum({ agt: 'forum-helper', scp: 'forum.post', site: FORUM, agent: forumHelper, facts: reply })).toBe(1);
    const approve = (sub: string) => policy.decide({ sub, agt: 'access-helper', scp: 'admin.acl.write', site: ADMIN, agent: accessHelper, facts: reply });
    expect([approve('alice'), approve('bob'), approve('carol'), approve('dave')]).toEqual([undefined, undefined, undefined, 'approver_not_authorized']);
  });
});
