// The popup's side of an approval that may need the person's presence: ask the background first
// (ui-bg:presence-challenge); where it answers `uv`, ask the authenticator here, in an extension page
// (never a web page), over exactly that challenge; the assertion then goes with the approval. The
// toolbar popup closes when it loses focus, and an authenticator's prompt (Windows Hello, a phone) may
// take it: there the review opens in a window of its own and the person approves in it. A cancelled or
// failed assertion signs nothing and says why. Extension page only (popup).
import { browser } from 'wxt/browser';
import type { WebAuthnAssertion } from '@/lib/protocol/presence';
import type { PresenceChallengeInput, PresenceChallengeOutput } from '@/lib/messaging/contract';
import { ask } from '@/lib/messaging/client';
import { assertPresence, webAuthnFailure } from '@/lib/presence-page/webauthn';

/** The words beside an approval that will ask for presence, shown before the click. */
export const PRESENCE_NOTE = 'Asks for your presence (fingerprint, PIN or security key).';

/** The query parameter of a popup page opened in its own window to confirm one approval. */
export const CONFIRM_PARAM = 'confirm';

/** Not a failure: the approval continues in a window of its own (its message says so). */
export class ContinuedInWindow extends Error {
  constructor() {
    super('A Countersign window opened to confirm your presence: approve there (the toolbar popup would close while your authenticator asks).');
    this.name = 'ContinuedInWindow';
  }
}

/** True in the toolbar popup (no tab of its own); false in a tab or in a window of its own. */
async function inToolbarPopup(): Promise<boolean> {
  return (await browser.tabs.getCurrent()) === undefined;
}

/**
 * The person's assertion for this approval, or undefined when it needs none; throws an Error in plain
 * words when it could not be made, or ContinuedInWindow from the toolbar popup. `askChallenge` is the
 * background's answer (the popup's message; a test's stand-in).
 */
export async function presenceFor(
  subject: PresenceChallengeInput,
  askChallenge: (subject: PresenceChallengeInput) => Promise<PresenceChallengeOutput> = (s) => ask('ui-bg:presence-challenge', s),
): Promise<WebAuthnAssertion | undefined> {
  const asked = await askChallenge(subject);
  if (asked.presence === 'none') return undefined;
  if (await inToolbarPopup()) {
    const url = browser.runtime.getURL(`/popup.html?${CONFIRM_PARAM}=${encodeURIComponent(`${subject.kind}:${subject.id}`)}`);
    await browser.windows.create({ url, type: 'popup', width: 440, height: 720, focused: true });
    throw new ContinuedInWindow();
  }
  try {
    return await assertPresence(asked);
  } catch (error) {
    throw new Error(webAuthnFailure(error, 'assert'), { cause: error });
  }
}

/** What a popup page opened to confirm one approval says at its top, or null for the plain popup. */
export function confirmBanner(search: string): string | null {
  const value = new URLSearchParams(search).get(CONFIRM_PARAM);
  if (value === null || !/^(held|proposal):[A-Za-z0-9_-]{1,128}$/.test(value)) return null;
  return 'Confirm your presence: press Approve below, then answer your authenticator (fingerprint, PIN or security key).';
}
