// The hold notice a protected page shows while Countersign holds a request: what is held and whose
// signature it waits for. A closed shadow root, so the page can neither style nor read it; no React.
// Content script only.
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

export class HoldNotice {
  private host: HTMLElement | null = null;
  private box: HTMLElement | null = null;

  constructor(private readonly ctx: ContentScriptContext) {
    ctx.onInvalidated(() => this.host?.remove());
  }

  show(message: string, state: string): void {
    if (!this.box) {
      this.host = document.createElement('countersign-hold-notice');
      const root = this.host.attachShadow({ mode: 'closed' });
      const style = document.createElement('style');
      style.textContent = STYLE;
      this.box = document.createElement('div');
      this.box.className = 'notice';
      this.box.setAttribute('role', 'status');
      this.box.setAttribute('aria-live', 'polite');
      root.append(style, this.box);
      (document.body ?? document.documentElement).append(this.host);
    }
    this.box.dataset.state = state;
    const title = document.createElement('strong');
    title.textContent = TITLES[state] ?? 'Countersign';
    const text = document.createElement('span');
    text.textContent = message;
    this.box.replaceChildren(title, text);
  }
}
