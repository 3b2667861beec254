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

export type SenderKind = 'popup' | 'options' | 'content-script';

/**
 * Classifies a sender of this extension. Extension pages are recognised by URL on the extension's
 * own origin (a content script's URL is the page's, and a renderer cannot stamp another origin);
 * the popup may be open in a tab too, so `tab` alone does not decide.
 */
export function classifySender(sender: SenderFacts, extensionId: string, extensionOrigin: string): SenderKind | null {
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
