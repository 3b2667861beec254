// The popup's side of an approval that may need the person's presence: ask the background first
// (ui-bg:presence-challenge); where it answers `uv`, ask the authenticator here, in the popup (an
// extension page, never a web page), over exactly that challenge; the assertion then goes with the
// approval. A cancelled or failed assertion signs nothing and says why. Extension page only (popup).
import type { WebAuthnAssertion } from '@/lib/protocol/presence';
import type { PresenceChallengeInput } from '@/lib/messaging/contract';
import { ask } from '@/lib/messaging/client';
import { assertPresence, webAuthnFailure } from '@/lib/presence-page/webauthn';

/** The words beside an approval that will ask for presence, shown before the click. */
export const PRESENCE_NOTE = 'Asks for your presence (fingerprint, PIN or security key).';

/** The person's assertion for this approval, or undefined when it needs none; throws an Error in plain words when it could not be made. */
export async function presenceFor(subject: PresenceChallengeInput): Promise<WebAuthnAssertion | undefined> {
  const asked = await ask('ui-bg:presence-challenge', subject);
  if (asked.presence === 'none') return undefined;
  try {
    return await assertPresence(asked);
  } catch (error) {
    throw new Error(webAuthnFailure(error, 'assert'), { cause: error });
  }
}
