// Sender classification: the kind of a sender is read from what the browser stamps (id, url,
// origin, tab), never from the message. Extension pages by their URL on our origin, content scripts
// by a web URL in a tab, the background by its script or page, or by having neither URL nor tab.
import { describe, expect, it } from 'vitest';
import { classifySender } from '@/lib/messaging/senders';

const SELF = { id: 'leelpbfgmamkjjkciaifjeihgadjnmgj', origin: 'chrome-extension://leelpbfgmamkjjkciaifjeihgadjnmgj' };
const popup = { id: SELF.id, url: `${SELF.origin}/popup.html`, origin: SELF.origin };
const popupInTab = { ...popup, tab: { id: 3 } };
const options = { id: SELF.id, url: `${SELF.origin}/options.html`, origin: SELF.origin, tab: { id: 4 } };
const contentScript = { id: SELF.id, url: 'http://127.0.0.1:8080/t/1', origin: 'http://127.0.0.1:8080', tab: { id: 7 }, frameId: 0 };

describe('sender classification', () => {
  it.each([
    ['the popup', popup, 'popup'],
    ['the popup opened in a tab', popupInTab, 'popup'],
    ['the options page', options, 'options'],
    ['a content script', contentScript, 'content-script'],
    ['another extension', { ...popup, id: 'otherextensionid' }, null],
    ['another extension page of ours', { ...popup, url: `${SELF.origin}/evil.html` }, null],
    ['a popup URL with a foreign origin stamp', { ...popup, origin: 'http://127.0.0.1:8080' }, null],
    ['a web URL without a tab', { id: SELF.id, url: 'http://127.0.0.1/' }, null],
  ])('%s → %s', (_name, sender, kind) => {
    expect(classifySender(sender, SELF.id, SELF.origin)).toBe(kind);
  });
});

describe('the background as a sender (what a content script accepts bg-cs messages from)', () => {
  const FIREFOX = { id: 'countersign@example', origin: 'moz-extension://6f1c1b9e-2d6a-4a57-9a53-7b2f0a0c1d2e' };

  it.each([
    ['Chrome\'s service worker by its script URL', { id: SELF.id, url: `${SELF.origin}/background.js`, origin: SELF.origin }, 'background'],
    // Chrome has stamped no URL for its service worker (w3c/webextensions#851); every document gets one.
    ['no URL and no tab (Chrome\'s service worker)', { id: SELF.id }, 'background'],
    ['no URL, no tab, our origin', { id: SELF.id, origin: SELF.origin }, 'background'],
    ['no URL in a tab', { id: SELF.id, tab: { id: 3 } }, null],
    ['no URL with a foreign origin stamp', { id: SELF.id, origin: 'http://127.0.0.1:8080' }, null],
    ['another extension with no URL', { id: 'otherextensionid' }, null],
    ['the background script URL in a tab', { id: SELF.id, url: `${SELF.origin}/background.js`, origin: SELF.origin, tab: { id: 3 } }, null],
    ['the background script URL with a foreign origin stamp', { id: SELF.id, url: `${SELF.origin}/background.js`, origin: 'http://127.0.0.1:8080' }, null],
    ['another extension\'s background', { id: 'otherextensionid', url: 'chrome-extension://otherextensionid/background.js' }, null],
    ['the popup, which has no tab either', popup, 'popup'],
    ['a web page\'s own background.js', { ...contentScript, url: 'http://127.0.0.1:8080/background.js' }, 'content-script'],
  ])('%s → %s', (_name, sender, kind) => {
    expect(classifySender(sender, SELF.id, SELF.origin)).toBe(kind);
  });

  it('Firefox\'s background page (its generated page on the moz-extension origin) → background', () => {
    const sender = { id: FIREFOX.id, url: `${FIREFOX.origin}/_generated_background_page.html` };
    expect(classifySender(sender, FIREFOX.id, FIREFOX.origin)).toBe('background');
    expect(classifySender({ ...sender, url: `${SELF.origin}/_generated_background_page.html` }, FIREFOX.id, FIREFOX.origin)).toBeNull();
  });
});
