// A button that opens (or focuses) the extension's options page, where the browser is enrolled.
// Extension page only.
import { browser } from 'wxt/browser';

export function OpenOptions({ children = 'Open the options page' }: { children?: string }) {
  return (
    <button type="button" onClick={() => void browser.runtime.openOptionsPage()}>
      {children}
    </button>
  );
}
