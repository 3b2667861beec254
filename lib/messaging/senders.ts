// Who may send which message: predicates over the fields the browser stamps on a sender (id, url,
// origin, tab), never over anything the message says about itself. Runtime-neutral, pure.

/** The parts of runtime.MessageSender the checks read. */
export interface SenderFacts {
  id?: string;
  url?: string;
  origin?: string;
  tab?: { id?: number } | undefined;
  frameId?: number;
}

/** Every kind of sender the message map names. */
export const SENDER_KINDS = ['popup', 'options', 'content-script', 'background'] as const;
export type SenderKind = (typeof SENDER_KINDS)[number];

/**
 * Where the background runs, as the browser stamps it on the messages it sends: Chrome's service
 * worker by its script, Firefox's background scripts by the page it generates for them.
 */
const BACKGROUND_PATHS = ['background.js', '_generated_background_page.html'];

/**
 * The background, told apart from the rest of the extension: this extension's id, never a tab, our
 * origin if one is stamped, and its script's or page's URL; extension pages (the popup has no tab
 * either, and may call tabs.sendMessage) are told from it by their URL. Content scripts check bg-cs
 * messages with this alone (to-content.ts), so it stays small.
 *
 * No URL: every document Chrome or Firefox runs is stamped with its URL, but Chrome has stamped none
 * for its service worker (w3c/webextensions#851). Only tabs.sendMessage reaches a content script,
 * and only this extension's own contexts can call it for our content scripts; so a sender of ours
 * with no URL and no tab is the worker, as the content script's check took it before.
 */
export function isBackground(sender: SenderFacts, extensionId: string, extensionOrigin: string): boolean {
  if (sender.id !== extensionId || sender.tab || (sender.origin !== undefined && sender.origin !== extensionOrigin)) return false;
  return !sender.url || BACKGROUND_PATHS.some((path) => sender.url === `${extensionOrigin}/${path}`);
}

/**
 * Classifies a sender of this extension. Extension pages are recognised by URL on the extension's
 * own origin (a content script's URL is the page's, and a renderer cannot stamp another origin);
 * the popup may be open in a tab too, so `tab` alone does not decide. The background: isBackground.
 */
export function classifySender(sender: SenderFacts, extensionId: string, extensionOrigin: string): SenderKind | null {
  if (isBackground(sender, extensionId, extensionOrigin)) return 'background';
  if (sender.id !== extensionId || !sender.url) return null;
  // Compared as strings: WHATWG URL gives non-special schemes such as chrome-extension: an opaque origin.
  const prefix = `${extensionOrigin}/`;
  if (sender.url.startsWith(prefix)) {
    if (sender.origin !== undefined && sender.origin !== extensionOrigin) return null;
    const path = sender.url.slice(prefix.length).split(/[?#]/, 1)[0];
    if (path === 'popup.html') return 'popup';
    if (path === 'options.html') return 'options';
    return null;
  }
  // Anything else from this extension is a content script in a web page's tab.
  if (sender.tab?.id !== undefined && /^https?:\/\//.test(sender.url)) return 'content-script';
  return null;
}
