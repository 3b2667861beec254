// Cedar policies the tests share: the default's rules plus the two-person rule on the Access console
// (two approvers for `admin.acl.write`; bob may review alice's assistant there). Node only (tests).
import { defaultPolicyText } from '../../server/policy/engine';

export const TWO_PERSON_POLICY = `${defaultPolicyText()}
@id("two-people-for-acl")
@approvers("2")
permit (principal, action == Action::"quorum", resource)
when { context.scope == "admin.acl.write" };

@id("bob-reviews-acl-changes")
permit (principal is User, action == Action::"approve", resource is Agent)
when { context.sub == "bob" && context.scope == "admin.acl.write" };
`;
