// Cedar policies the tests share: the default's rules plus the two-person rule on the Access console
// (two approvers for `admin.acl.write`; bob may review alice's assistant there), and a policy text
// without the default's presence rule (for tests of what a bot may approve there). Node only (tests).
import { PayloadInvalid } from '../../lib/protocol';
import { compilePolicy, defaultPolicyText } from '../../server/policy/engine';

export const TWO_PERSON_POLICY = `${defaultPolicyText()}
@id("two-people-for-acl")
@approvers("2")
permit (principal, action == Action::"quorum", resource)
when { context.scope == "admin.acl.write" };

@id("bob-reviews-acl-changes")
permit (principal is User, action == Action::"approve", resource is Agent)
when { context.sub == "bob" && context.scope == "admin.acl.write" };
`;

/** The id of the default policy's presence rule (admin.acl.write, wiki.rights). */
export const DEFAULT_PRESENCE_RULE = 'presence-for-access-changes';

/**
 * `text` without the default's presence rule: access changes then need no presence, so a policy
 * bot's rule may cover them (a bot is never present). Throws when the rule is not there to remove.
 */
export function withoutPresence(text: string): string {
  const rule = new RegExp(`@id\\("${DEFAULT_PRESENCE_RULE}"\\)[^;]*;`);
  if (!rule.test(text)) throw new Error('the policy has no default presence rule to remove');
  return text.replace(rule, '');
}

/** The refusal a policy text gets when it is loaded; throws if it is accepted. */
export function policyRefusal(text: string): PayloadInvalid {
  try {
    compilePolicy(text);
  } catch (e) {
    if (e instanceof PayloadInvalid) return e;
    throw e;
  }
  throw new Error('policy was accepted');
}
