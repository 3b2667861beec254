// Presence rules in the Cedar policy: `@presence("uv")` on a permit for Action::"presence" marks the actions whose approvals must prove the person was there; misplaced or wrong annotations are refused at load.
import { describe, expect, it } from 'vitest';
import { compilePolicy, defaultPolicyText } from '../../../server/policy/engine';
import type { AgentEntry, QuorumRequest } from '../../../server/policy/engine';
import { policyRefusal } from '../../helpers/policies';

const FORUM = 'http://127.0.0.1:8080';
const ADMIN = 'http://localhost:8081';
const WIKI = 'http://wiki.corp:8090';
const helper: AgentEntry = { id: 'agent:access-helper', owner: 'alice', scopes: ['forum.post', 'admin.acl.write', 'wiki.rights', 'wiki.edit'], sites: [FORUM, ADMIN, WIKI] };
const defaults = compilePolicy(defaultPolicyText());

function question(overrides: Partial<QuorumRequest> = {}): QuorumRequest {
  return { agt: helper.id, scp: 'admin.acl.write', site: ADMIN, agent: helper, ...overrides };
}

const refusalOf = policyRefusal;

describe('presence rules', () => {
  it('the default policy asks for presence on access changes (admin.acl.write) and wiki user rights (wiki.rights), nowhere else', () => {
    expect(defaults.presence(question())).toBe('uv');
    expect(defaults.presence(question({ scp: 'wiki.rights', site: WIKI }))).toBe('uv');
    expect(defaults.presence(question({ scp: 'forum.post', site: FORUM }))).toBe('none');
    expect(defaults.presence(question({ scp: 'wiki.edit', site: WIKI }))).toBe('none');
  });

  it('a person\'s own request on a presence scope needs presence too', () => {
    expect(defaults.presence(question({ agt: 'user:alice', agent: undefined }))).toBe('uv');
  });

  it('a policy without presence rules asks for none', () => {
    const text = defaultPolicyText().replace(/@id\("presence-for-access-changes"\)[\s\S]*?;\s*$/, '');
    expect(text).not.toContain('presence-for-access-changes');
    expect(compilePolicy(text).presence(question())).toBe('none');
  });

  it('an added rule can ask for presence by site', () => {
    const set = compilePolicy(`${defaultPolicyText()}\n@id("forum-presence") @presence("uv") permit (principal, action == Action::"presence", resource) when { context.site == "${FORUM}" };`);
    expect(set.presence(question({ scp: 'forum.post', site: FORUM }))).toBe('uv');
    expect(set.presence(question({ scp: 'wiki.edit', site: WIKI }))).toBe('none');
  });

  it('attack: a forbid over every action does not lift presence', () => {
    const set = compilePolicy(`${defaultPolicyText()}\n@id("deny-all") forbid (principal, action, resource);`);
    expect(set.presence(question())).toBe('uv');
  });

  it('attack: a presence rule that errors for an unregistered agent still asks for presence (fail closed)', () => {
    const owned = `@id("owned-presence") @presence("uv") permit (principal, action == Action::"presence", resource is Agent) when { resource.owner == User::"alice" };`;
    expect(compilePolicy(`${defaultPolicyText()}${owned}`).presence(question({ agt: 'ghost', scp: 'forum.post', site: FORUM, agent: undefined }))).toBe('uv');
  });

  it('attack: a permit for Action::"presence" does not let anybody approve', () => {
    const set = compilePolicy(`${defaultPolicyText()}\n@id("everything-presence") @presence("uv") permit (principal, action == Action::"presence", resource);`);
    expect(set.decide({ sub: 'mallory', agt: helper.id, scp: 'admin.acl.write', site: ADMIN, agent: helper, now: Date.parse('2026-12-07T12:00:00Z') })).toBe('approver_not_authorized');
  });

  it('refuses @presence on anything but a permit for Action::"presence", a presence permit without @presence("uv"), and another value', () => {
    expect(refusalOf('@presence("uv") permit (principal, action == Action::"approve", resource);').message).toMatch(/@presence/);
    expect(refusalOf('@presence("uv") forbid (principal, action == Action::"presence", resource);').message).toMatch(/@presence/);
    expect(refusalOf('permit (principal, action == Action::"presence", resource);').message).toMatch(/@presence\("uv"\)/);
    expect(refusalOf('@presence("up") permit (principal, action == Action::"presence", resource);').message).toMatch(/@presence\("uv"\)/);
    expect(refusalOf('@presence("") permit (principal, action == Action::"presence", resource);').message).toMatch(/@presence\("uv"\)/);
    expect(refusalOf('@presence("uv") @approvers("2") permit (principal, action == Action::"presence", resource);').message).toMatch(/quorum|@approvers/);
  });

  it('the refusal names the policy field', () => {
    expect(refusalOf('@presence("uv") permit (principal, action == Action::"approve", resource);').field).toBe('policy');
  });
});
