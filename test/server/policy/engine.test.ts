// The Cedar approval policy: each default rule allows and refuses with its code, admins can swap the text, and ids are data.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PolicyRefusal } from '../../../lib/protocol/approval-token';
import { compilePolicy, defaultPolicyText } from '../../../server/policy/engine';
import type { AgentEntry, ApprovalRequest, PolicySet } from '../../../server/policy/engine';
import { policyRefusal } from '../../helpers/policies';

const FORUM = 'http://127.0.0.1:8080';
const ADMIN = 'http://127.0.0.1:8081';
const PAYROLL = 'https://payroll.corp.example';

const forumBot: AgentEntry = { id: 'forum-bot', owner: 'alice', scopes: ['forum.post'], sites: [FORUM] };
const anywhereBot: AgentEntry = { id: 'anywhere-bot', owner: 'alice', scopes: ['forum.post'], sites: ['*'] };

const policy = compilePolicy(defaultPolicyText());

/** `printf '%s' 'permit (principal, action, resource);' | sha256sum` */
const SHA256_OF_PERMIT_ALL = '70dc852b2e8a27d8bbc7dea7c75fb0f79f634420db4b4ccc0c1c8b6e8a432baa';

function ask(overrides: Partial<ApprovalRequest>, set: PolicySet = policy): PolicyRefusal | undefined {
  return set.decide({ sub: 'alice', agt: 'forum-bot', scp: 'forum.post', site: FORUM, agent: forumBot, ...overrides });
}

/** The payload_invalid error a policy text is refused with. */
const refusalOf = policyRefusal;

describe('the default policy', () => {
  it('compiles, names the payroll origin as blocked, and decides synchronously', () => {
    expect(defaultPolicyText()).toContain(`["${PAYROLL}"]`);
    expect(policy.text).toBe(defaultPolicyText());
    expect(policy.version).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(ask({})).toBeUndefined();
    expect(ask({ sub: 'bob' })).toBe('approver_not_authorized');
  });

  describe('1. an owner approves their own registered agent within its scopes and sites', () => {
    it('allows the owner for a registered scope on a registered site', () => {
      expect(ask({})).toBeUndefined();
    });

    it('allows any site for an agent registered with "*"', () => {
      expect(ask({ agt: 'anywhere-bot', agent: anywhereBot, site: ADMIN })).toBeUndefined();
      expect(ask({ agt: 'anywhere-bot', agent: anywhereBot, site: 'https://wiki.corp.example' })).toBeUndefined();
    });

    it.each<[string, Partial<ApprovalRequest>]>([
      ['another person approving alice’s agent', { sub: 'bob' }],
      ['a scope the agent is not registered for', { scp: 'admin.acl.write' }],
      ['a site the agent is not registered for', { site: ADMIN }],
      ['the registered site under another scheme', { site: 'https://127.0.0.1:8080' }],
      ['a token site of "*" when the agent lists real origins', { site: '*' }],
      ['an unregistered agent', { agent: undefined }],
      ['a registry entry for another agent id', { agt: 'other-bot' }],
      ['an agent registered with no scopes', { agent: { ...forumBot, scopes: [] } }],
    ])('refuses %s as approver_not_authorized', (_name, overrides) => {
      expect(ask(overrides)).toBe('approver_not_authorized');
    });
  });

  describe('2. a person approves their own request (agt "user:<id>")', () => {
    it('allows alice to countersign her own request, whatever the scope or site', () => {
      expect(ask({ agt: 'user:alice', agent: undefined, scp: 'admin.acl.write', site: ADMIN })).toBeUndefined();
    });

    it('refuses someone else’s request as approver_not_authorized', () => {
      expect(ask({ sub: 'bob', agt: 'user:alice', agent: undefined })).toBe('approver_not_authorized');
      expect(ask({ sub: 'alice', agt: 'user:alice2', agent: undefined })).toBe('approver_not_authorized');
      expect(ask({ sub: 'alice', agt: 'user:', agent: undefined })).toBe('approver_not_authorized');
    });

    it('treats a "user:" agt as the person even if a registry entry is passed for it', () => {
      const imposter: AgentEntry = { id: 'user:alice', owner: 'bob', scopes: ['forum.post'], sites: ['*'] };
      expect(ask({ sub: 'bob', agt: 'user:alice', agent: imposter })).toBe('approver_not_authorized');
    });
  });

  describe('3. no self-approval', () => {
    it('refuses an agent enrolled as a user approving itself, even as its own owner', () => {
      const selfOwned: AgentEntry = { id: 'forum-bot', owner: 'forum-bot', scopes: ['forum.post'], sites: [FORUM] };
      expect(ask({ sub: 'forum-bot', agent: selfOwned })).toBe('self_approval');
      expect(ask({ sub: 'forum-bot' })).toBe('self_approval');
      expect(ask({ sub: 'ghost-bot', agt: 'ghost-bot', agent: undefined })).toBe('self_approval');
    });

    it('does not confuse the person "user:alice" with the request of alice', () => {
      expect(ask({ sub: 'user:alice', agt: 'user:alice', agent: undefined })).toBe('self_approval');
    });
  });

  describe('4. blocked sites', () => {
    it('refuses the owner on a blocked site: forbid beats permit', () => {
      const payrollBot: AgentEntry = { ...forumBot, sites: [FORUM, PAYROLL] };
      expect(ask({ site: PAYROLL, agent: payrollBot })).toBe('site_blocked');
      expect(ask({ agt: 'anywhere-bot', agent: anywhereBot, site: PAYROLL })).toBe('site_blocked');
    });

    it('says site_blocked to anyone else and for unregistered agents too', () => {
      expect(ask({ sub: 'bob', site: PAYROLL })).toBe('site_blocked');
      expect(ask({ agent: undefined, site: PAYROLL })).toBe('site_blocked');
    });

    it('prefers site_blocked over self_approval when both forbids match, in either text order', () => {
      expect(ask({ sub: 'forum-bot', site: PAYROLL })).toBe('site_blocked');
      const reordered = compilePolicy(defaultPolicyText().split(/\n(?=\/\/ No assistant action)/).reverse().join('\n'));
      expect(reordered.version).not.toBe(policy.version);
      expect(ask({ sub: 'forum-bot', site: PAYROLL }, reordered)).toBe('site_blocked');
    });

    it('matches exact origins only', () => {
      const everywhere: AgentEntry = { ...anywhereBot, id: 'forum-bot' };
      expect(ask({ agent: everywhere, site: `${PAYROLL}:8443` })).toBeUndefined();
      expect(ask({ agent: everywhere, site: 'https://payroll.corp.example.evil' })).toBeUndefined();
    });

    it('does not block a person’s own reviewed request (not an assistant action)', () => {
      expect(ask({ agt: 'user:alice', agent: undefined, site: PAYROLL })).toBeUndefined();
    });

    it('takes the list from the policy text: an admin can block another origin', () => {
      const wider = compilePolicy(defaultPolicyText().replace(`["${PAYROLL}"]`, `["${PAYROLL}", "${FORUM}"]`));
      expect(ask({}, wider)).toBe('site_blocked');
      expect(ask({ agt: 'anywhere-bot', agent: anywhereBot, site: ADMIN }, wider)).toBeUndefined();
    });
  });

  it('5. refuses anything no permit covers as approver_not_authorized', () => {
    expect(ask({ sub: 'mallory', agt: 'user:mallory2', agent: undefined })).toBe('approver_not_authorized');
    expect(ask({ sub: 'bob', agt: 'nobody', agent: undefined, scp: 'x', site: 'https://x.example' })).toBe(
      'approver_not_authorized',
    );
  });
});

describe('an admin’s replacement policy', () => {
  // DESIGN.md: "an admin's policy can demand a second person instead" for a person's own request.
  const secondPerson = compilePolicy(`
@id("owner-approves-own-agent")
permit (principal, action == Action::"approve", resource is Agent)
when {
  resource.owner == principal &&
  resource.scopes.contains(context.scope) &&
  (resource.sites.contains(context.site) || resource.sites.contains("*"))
};

@id("another-person-reviews")
permit (principal, action == Action::"approve", resource is User);

@id("no-self-approval")
@code("self_approval")
forbid (principal, action, resource)
when { context.sub == context.agt || resource == principal };
`);

  it('demands a second person for a person’s own request', () => {
    const own = { agt: 'user:alice', agent: undefined, scp: 'admin.acl.write', site: ADMIN };
    expect(ask(own)).toBeUndefined();
    expect(ask(own, secondPerson)).toBe('self_approval');
    expect(ask({ ...own, sub: 'bob' }, secondPerson)).toBeUndefined();
    expect(secondPerson.version).not.toBe(policy.version);
  });

  it('still lets an owner approve their agent', () => {
    expect(ask({}, secondPerson)).toBeUndefined();
    expect(ask({ sub: 'bob' }, secondPerson)).toBe('approver_not_authorized');
  });

  it('maps an uncoded forbid to approver_not_authorized', () => {
    const noBots = compilePolicy(`${defaultPolicyText()}\nforbid (principal, action, resource is Agent) when { context.scope == "forum.post" };`);
    expect(ask({}, noBots)).toBe('approver_not_authorized');
    expect(ask({ site: PAYROLL }, noBots)).toBe('site_blocked');
  });
});

describe('the policy version', () => {
  it('is stable for the same text and changes with any change to it', () => {
    const text = defaultPolicyText();
    expect(compilePolicy(text).version).toBe(policy.version);
    expect(compilePolicy(`${text}\n`).version).not.toBe(policy.version);
    expect(compilePolicy(text.replace(PAYROLL, 'https://hr.corp.example')).version).not.toBe(policy.version);
  });

  it('is "sha256:" and the first 16 hex digits of SHA-256 of the text', () => {
    const text = 'permit (principal, action, resource);';
    expect(compilePolicy(text).version).toBe(`sha256:${SHA256_OF_PERMIT_ALL.slice(0, 16)}`);
  });
});

describe('a policy text the verifier refuses', () => {
  it('throws PayloadInvalid naming the policy field with Cedar’s parse message and position', () => {
    const e = refusalOf('permit (principal, action, resource);\nforbid (principal, action resource);');
    expect(e.code).toBe('payload_invalid');
    expect(e.field).toBe('policy');
    expect(e.message).toMatch(/^policy: .*line 2, column \d+/);
    expect(e.message).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['a typo in an attribute (schema validation)', 'permit (principal, action, resource is Agent) when { resource.ownr == principal };', /ownr/],
    ['an unknown context field', 'forbid (principal, action, resource) when { context.origin == "x" };', /origin/],
    ['an unknown refusal code', '@code("nope") forbid (principal, action, resource);', /@code must be one of/],
    ['a refusal code on a permit', '@code("site_blocked") permit (principal, action, resource);', /@code belongs on a forbid/],
    ['two policies with one @id', '@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);', /"a"/],
    ['a template', 'permit (principal == ?principal, action, resource);', /templates/],
    ['no policies at all', '// nothing here\n', /no policies/],
    ['unpaired UTF-16 surrogates', 'permit (principal, action, resource) when { context.site == "\uD800" };', /Unicode/],
  ])('refuses %s', (_name, text, message) => {
    const e = refusalOf(text);
    expect(e.field).toBe('policy');
    expect(e.message).toMatch(message);
  });
});

describe('ids are data, never policy text', () => {
  it('keeps a policy whose @id is "__proto__"', () => {
    const set = compilePolicy(`${defaultPolicyText()}\n@id("__proto__") @code("site_blocked") forbid (principal, action, resource) when { context.site == "${ADMIN}" };`);
    expect(ask({ agt: 'anywhere-bot', agent: anywhereBot, site: ADMIN }, set)).toBe('site_blocked');
  });


  const hostile = [
    'alice"',
    'alice" || true || "',
    '"); permit(principal, action, resource); //',
    '"}; permit (principal, action, resource); @id("x',
    'User::"alice"',
    'alice\\',
    'alice\u0000',
    'alice\n',
    '*',
    'user:alice',
    'a:b/c',
    '',
  ];

  it.each(hostile)('an approver named %j gains nothing over alice’s agent', (sub) => {
    expect(ask({ sub })).toBe('approver_not_authorized');
    // "user:alice" approving the request of "user:alice" is refused as self-approval instead.
    expect(ask({ sub, agt: 'user:alice', agent: undefined })).toBe(sub === 'user:alice' ? 'self_approval' : 'approver_not_authorized');
  });

  it.each(hostile)('an owner named %j approves exactly their own agent and request', (owner) => {
    const agent: AgentEntry = { ...forumBot, owner };
    expect(ask({ sub: owner, agent })).toBeUndefined();
    expect(ask({ sub: 'alice', agent })).toBe('approver_not_authorized');
    expect(ask({ sub: owner, agt: `user:${owner}`, agent: undefined })).toBeUndefined();
    expect(ask({ sub: 'alice', agt: `user:${owner}`, agent: undefined })).toBe('approver_not_authorized');
  });

  it.each(hostile)('an agent, scope or site named %j cannot widen a registration', (odd) => {
    // Registered under that id the agent works as registered ("user:alice" is alice's own request anyway).
    expect(ask({ agt: odd, agent: { ...forumBot, id: odd } })).toBeUndefined();
    expect(ask({ sub: 'bob', agt: odd, agent: { ...forumBot, id: odd } })).toBe('approver_not_authorized');
    expect(ask({ scp: odd })).toBe('approver_not_authorized');
    expect(ask({ site: odd })).toBe('approver_not_authorized');
  });

  it('refuses unpaired surrogates (which could collapse two ids into one) and keeps working', () => {
    const agent: AgentEntry = { ...forumBot, owner: 'alice\uD800' };
    expect(ask({ sub: 'alice\uDC00', agent })).toBe('approver_not_authorized');
    expect(ask({ sub: 'alice\uD800', agent })).toBe('approver_not_authorized');
    expect(ask({ site: `${FORUM}\uDFFF` })).toBe('approver_not_authorized');
    expect(ask({ sub: 'alice\u{1F600}', agent: { ...forumBot, owner: 'alice\u{1F600}' } })).toBeUndefined();
    expect(ask({})).toBeUndefined();
  });

  it('decides as a plain model of the default rules for arbitrary ids', () => {
    const id = fc.oneof(
      fc.constantFrom('alice', 'bob', 'forum-bot', 'user:alice', 'user:bob', 'user:', '*', 'forum.post', FORUM, PAYROLL),
      fc.string({ unit: 'binary', maxLength: 12 }),
    );
    const entry = fc.record({ owner: id, scopes: fc.array(id, { maxLength: 3 }), sites: fc.array(id, { maxLength: 3 }) });
    fc.assert(
      fc.property(id, id, id, id, fc.option(entry, { nil: undefined }), (sub, agt, scp, site, registered) => {
        const agent = registered && { id: agt, ...registered };
        expect(policy.decide({ sub, agt, scp, site, agent })).toBe(model({ sub, agt, scp, site, agent }));
      }),
      { numRuns: 500 },
    );
  });
});

/** The default policy written out by hand, to check the Cedar text against. */
function model({ sub, agt, scp, site, agent }: ApprovalRequest): PolicyRefusal | undefined {
  const person = agt.startsWith('user:');
  if (!person && site === PAYROLL) return 'site_blocked';
  if (sub === agt) return 'self_approval';
  if (person) return agt.slice('user:'.length) === sub ? undefined : 'approver_not_authorized';
  const allowed =
    agent !== undefined &&
    agent.owner === sub &&
    agent.scopes.includes(scp) &&
    (agent.sites.includes(site) || agent.sites.includes('*'));
  return allowed ? undefined : 'approver_not_authorized';
}
