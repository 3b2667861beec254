// The hold notice a protected page shows while Countersign holds a request: what is held and whose
// signature it waits for. A closed shadow root, so the page can neither style nor read it; no React.
// Isolated content script only (the page's document).
import type { ContentScriptContext } from 'wxt/utils/content-script-context';

const STYLE = `
:host { all: initial; }
.notice { position: fixed; right: 16px; bottom: 16px; z-index: 2147483647; max-width: 360px; padding: 12px 14px;
  font: 14px/1.4 system-ui, sans-serif; color: #1b1f24; background: #fff8e1; border: 1px solid #d4a72c; border-radius: 8px;
  box-shadow: 0 4px 16px rgba(0,0,0,.15); }
.notice[data-state="approved"], .notice[data-state="released"] { background: #e8f5e9; border-color: #1a7f37; }
.notice[data-state="rejected"], .notice[data-state="blocked"], .notice[data-state="failed"], .notice[data-state="expired"] { background: #fdecea; border-color: #b3261e; }
strong { display: block; margin-bottom: 4px; }
`;

const TITLES: Record<string, string> = {
  held: 'Held by Countersign',
  approved: 'Approved',
  released: 'Sent with approval',
  rejected: 'Rejected by its owner',
  expired: 'Expired',
  blocked: 'Blocked by policy',
  failed: 'Not sent',
};

export interface HoldNotice {
  /** Shows the notice (made on first show), saying `message` in `state`'s colours: replaces what it said. */
  show(message: string, state: string): void;
}

/** The page's hold notice, removed with the script's context. */
export function holdNotice(ctx: ContentScriptContext): HoldNotice {
  let host: HTMLElement | null = null;
  let box: HTMLElement | null = null;
  ctx.onInvalidated(() => host?.remove());
  const show = (message: string, state: string): void => {
    if (!box) {
      host = document.createElement('countersign-hold-notice');
      const root = host.attachShadow({ mode: 'closed' });
      const style = document.createElement('style');
      style.textContent = STYLE;
      box = document.createElement('div');
      box.className = 'notice';
      box.setAttribute('role', 'status');
      box.setAttribute('aria-live', 'polite');
      root.append(style, box);
      (document.body ?? document.documentElement).append(host);
    }
    box.dataset.state = state;
    const title = document.createElement('strong');
    title.textContent = TITLES[state] ?? 'Countersign';
    const text = document.createElement('span');
    text.textContent = message;
    box.replaceChildren(title, text);
  };
  return { show };
}
