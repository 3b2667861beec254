// The presence step of every token check (verify, middleware, gateway, proposal decisions, published
// holds): what policy asks, the `wa` assertion checked against the device's credential, its sign
// count admitted. Node only.
import type { Kysely } from 'kysely';
import type { PresenceInput } from '../lib/protocol';
import { CLOCK_SKEW_SECONDS, TokenRejected } from '../lib/protocol';
import type { Database } from './db/schema';
import type { AgentEntry, PolicySet } from './policy/engine';
import { checkAssertion } from './presence';
import { isConsumed } from './store/decisions';
import { admitSignCount, credentialOf } from './store/webauthn-credentials';

export interface PresenceGateDeps {
  db: Kysely<Database>;
  policy: PolicySet;
  lookupAgent(agentId: string): Promise<AgentEntry | undefined>;
}

/**
 * Throws `presence_required` where policy asks for presence (`@presence("uv")`) and the token has no
 * `wa`; checks a `wa` wherever one is present (a claim is never taken unchecked) and throws
 * `presence_invalid` when it fails, or when its sign count went back (a cloned authenticator). A
 * replayed token is `replayed`, not a presence failure.
 */
export function presenceGate(deps: PresenceGateDeps): (input: PresenceInput) => Promise<void> {
  return async ({ claims, digest, question, key }) => {
    const wa = claims.wa;
    if (wa === undefined) {
      const needed = deps.policy.presence({ agt: question.agt, scp: question.scp, site: question.site, facts: question.facts, agent: await deps.lookupAgent(question.agt) });
      if (needed === 'none') return;
      const why = (await credentialOf(deps.db, claims.iss, key.kid))
        ? 'the approval carries no user-verified assertion'
        : 'this device has no authenticator registered (enroll it again, with one, using a new enrollment code)';
      throw new TokenRejected('presence_required', `policy requires the approver's presence for this action: ${why}`);
    }
    const credential = await credentialOf(deps.db, claims.iss, key.kid);
    if (!credential) throw new TokenRejected('presence_invalid', 'the approval carries an assertion, but its device has no credential registered');
    const { signCount } = await checkAssertion(wa, { digest, jti: claims.jti, exp: claims.exp }, credential);
    const admitted = await admitSignCount(deps.db, { iss: claims.iss, jti: claims.jti, signCount, expiresAt: claims.exp + CLOCK_SKEW_SECONDS });
    if (admitted) return;
    if (await isConsumed(deps.db, claims.iss, claims.jti)) throw new TokenRejected('replayed', 'token was already used');
    throw new TokenRejected('presence_invalid', 'the presence assertion\'s sign count did not advance: the authenticator may have been cloned');
  };
}
