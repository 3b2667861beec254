// Policy bots and quorum rules in the Cedar policy: a bot approves only through an unexpired rule that names it, forbids stop bots, and a quorum rule sets how many people an action needs.
import { describe, expect, it } from 'vitest';
import { compilePolicy, defaultPolicyText } from '../../../server/policy/engine';
import type { ActionFacts, AgentEntry, ApprovalRequest, PolicySet } from '../../../server/policy/engine';
import { policyRefusal } from '../../helpers/policies';

const FORUM = 'http://127.0.0.1:8080';
const ADMIN = 'http://127.0.0.1:8081';
const helper: AgentEntry = { id: 'forum-helper', owner: 'alice', scopes: ['forum.post', 'admin.acl.write'], sites: [FORUM, ADMIN] };
const post: ActionFacts = { method: 'POST', path: '/t/42/posts', query: '', chars: 120 };
const NOW = Date.parse('2026-12-07T12:00:00Z');

const SMALL_POSTS = `
@id("small-posts-in-topic-42")
@expires("2027-01-01T00:00:00Z")
permit (principal == Bot::"small-posts", action == Action::"approve", resource is Agent)
when { context.scope == "forum.post" && context.chars < 500 && context.path like "/t/42/*" };
`;
const TWO_FOR_ACL = `
@id("two-people-for-acl")
@approvers("2")
permit (principal, action == Action::"quorum", resource)
when { context.scope == "admin.acl.write" };
`;

const withRules = compilePolicy(defaultPolicyText() + SMALL_POSTS + TWO_FOR_ACL);

function ask(set: PolicySet, overrides: Partial<ApprovalRequest>) {
  const req: ApprovalRequest = { sub: 'policy-bot:small-posts', agt: 'forum-helper', scp: 'forum.post', site: FORUM, agent: helper, facts: post, now: NOW, ...overrides };
  return { refusal: set.decide(req), rule: set.botRule(req) };
}

const refusalOf = policyRefusal;

describe('policy bots', () => {
  it('the default policy approves nothing automatically and names no bot', () => {
    const set = compilePolicy(defaultPolicyText());
    expect(set.bots).toEqual([]);
    expect(ask(set, {}).refusal).toBe('approver_not_authorized');
  });

  it('a bot approves an action inside its rule, and says which rule', () => {
    expect(withRules.bots).toEqual(['small-posts']);
    expect(ask(withRules, {})).toEqual({ refusal: undefined, rule: 'small-posts-in-topic-42' });
  });

  it('outside its rule (too long, another topic, another scope) the bot may not approve', () => {
    expect(ask(withRules, { facts: { ...post, chars: 500 } }).refusal).toBe('approver_not_authorized');
    expect(ask(withRules, { facts: { ...post, path: '/t/43/posts' } }).refusal).toBe('approver_not_authorized');
    expect(ask(withRules, { scp: 'admin.acl.write' }).refusal).toBe('approver_not_authorized');
  });

  it('a rule counts until its expiry and never after', () => {
    expect(ask(withRules, { now: Date.parse('2026-12-31T23:59:59Z') }).refusal).toBeUndefined();
    expect(ask(withRules, { now: Date.parse('2027-01-01T00:00:00Z') })).toEqual({ refusal: 'approver_not_authorized', rule: undefined });
  });

  it('attack: a bot approves without the facts a rule judges by (no facts means no bot approval)', () => {
    expect(ask(withRules, { facts: undefined }).refusal).toBe('approver_not_authorized');
  });

  it('attack: another bot name, or a person, borrows the bot rule', () => {
    expect(ask(withRules, { sub: 'policy-bot:other' }).refusal).toBe('approver_not_authorized');
    expect(ask(withRules, { sub: 'bob' }).refusal).toBe('approver_not_authorized');
  });

  it('attack: a catch-all permit written for people lets no bot approve', () => {
    const set = compilePolicy(`permit (principal, action, resource);\n${SMALL_POSTS}`);
    expect(ask(set, { scp: 'admin.acl.write' }).refusal).toBe('approver_not_authorized');
    expect(ask(set, { sub: 'carol' }).refusal).toBeUndefined();
  });

  it('forbids stop bots as they stop people (a blocked site)', () => {
    const blocked = `${SMALL_POSTS}\n@id("blocked") @code("site_blocked") forbid (principal, action, resource is Agent) when { context.site == "${FORUM}" };`;
    expect(ask(compilePolicy(blocked), {}).refusal).toBe('site_blocked');
  });

  it('refuses a bot rule without @expires, with an unreadable one, or one that names no single bot', () => {
    expect(refusalOf('permit (principal == Bot::"b", action == Action::"approve", resource);').message).toMatch(/@expires/);
    expect(refusalOf('@expires("next week") permit (principal == Bot::"b", action == Action::"approve", resource);').message).toMatch(/UTC instant/);
    expect(refusalOf('@expires("2027-01-01") permit (principal == Bot::"b", action == Action::"approve", resource);').message).toMatch(/UTC instant/);
    expect(refusalOf('@expires("2027-01-01T00:00:00Z") permit (principal is Bot, action == Action::"approve", resource);').message).toMatch(/one named bot/);
    expect(refusalOf('@expires("2027-01-01T00:00:00Z") permit (principal, action == Action::"approve", resource);').message).toMatch(/one named bot/);
    expect(refusalOf('@expires("2027-01-01T00:00:00Z") forbid (principal == Bot::"b", action == Action::"approve", resource);').message).toMatch(/one named bot/);
    expect(refusalOf('@expires("2027-01-01T00:00:00Z") permit (principal == Bot::"Bad Name", action == Action::"approve", resource);').message).toMatch(/name/);
  });
});

describe('the action\'s facts in remembered answers', () => {
  it('a rule that reads a fact (a path, a length, via has or a record lookup) is asked afresh for each action: the same people, agent and site, another path', () => {
    const byPath = compilePolicy(`permit (principal, action == Action::"approve", resource is Agent) when { context.path like "/t/42/*" };`);
    const byLength = compilePolicy(`permit (principal, action == Action::"approve", resource is Agent) when { context has chars && context["chars"] < 10 };`);
    const q = (set: PolicySet, facts: ActionFacts) => set.decide({ sub: 'bob', agt: 'forum-helper', scp: 'forum.post', site: FORUM, agent: helper, facts });
    expect([q(byPath, post), q(byPath, { ...post, path: '/t/43/posts' }), q(byPath, post)]).toEqual([undefined, 'approver_not_authorized', undefined]);
    expect([q(byLength, { ...post, chars: 3 }), q(byLength, post), q(byLength, { ...post, chars: 3 })]).toEqual([undefined, 'approver_not_authorized', undefined]);
  });
});

describe('quorum rules', () => {
  const quorum = (overrides: Partial<ApprovalRequest> = {}) => withRules.quorum({ agt: 'forum-helper', scp: 'admin.acl.write', site: ADMIN, agent: helper, facts: post, ...overrides });

  it('an action a quorum rule covers needs its number of people; others need one', () => {
    expect(quorum()).toBe(2);
    expect(quorum({ scp: 'forum.post' })).toBe(1);
    expect(compilePolicy(defaultPolicyText()).quorum({ agt: 'forum-helper', scp: 'admin.acl.write', site: ADMIN, agent: helper })).toBe(1);
  });

  it('a person\'s own request is covered too', () => {
    expect(quorum({ agt: 'user:alice', agent: undefined })).toBe(2);
  });

  it('the largest of several matching rules wins', () => {
    const three = `${TWO_FOR_ACL}\n@id("three-on-admin") @approvers("3") permit (principal, action == Action::"quorum", resource) when { context.site == "${ADMIN}" };`;
    expect(compilePolicy(defaultPolicyText() + three).quorum({ agt: 'forum-helper', scp: 'admin.acl.write', site: ADMIN, agent: helper })).toBe(3);
  });

  it('attack: a forbid over every action does not lower the quorum', () => {
    const set = compilePolicy(`${defaultPolicyText()}${TWO_FOR_ACL}\n@id("deny-all") forbid (principal, action, resource);`);
    expect(set.quorum({ agt: 'forum-helper', scp: 'admin.acl.write', site: ADMIN, agent: helper })).toBe(2);
  });

  it('attack: a quorum rule that errors for an unregistered agent still counts (fail closed)', () => {
    const owned = `@id("owned") @approvers("2") permit (principal, action == Action::"quorum", resource is Agent) when { resource.owner == User::"alice" };`;
    expect(compilePolicy(`${defaultPolicyText()}${owned}`).quorum({ agt: 'ghost', scp: 'forum.post', site: FORUM, agent: undefined })).toBe(2);
  });

  it('refuses @approvers on anything but a quorum permit, and a quorum permit without a number in range', () => {
    expect(refusalOf('@approvers("2") permit (principal, action == Action::"approve", resource);').message).toMatch(/quorum/);
    expect(refusalOf('permit (principal, action == Action::"quorum", resource);').message).toMatch(/@approvers/);
    expect(refusalOf('@approvers("6") permit (principal, action == Action::"quorum", resource);').message).toMatch(/@approvers/);
    expect(refusalOf('@approvers("two") permit (principal, action == Action::"quorum", resource);').message).toMatch(/@approvers/);
  });
});
