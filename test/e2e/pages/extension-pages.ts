// Page objects for the extension's own pages, found by role and accessible name. Node only (browser tests).
import type { Locator, Page } from 'playwright-core';
import type { ExtensionBrowser } from '../support/browser';

export class PopupPage {
  constructor(readonly page: Page) {}

  static async open(browser: ExtensionBrowser): Promise<PopupPage> {
    return new PopupPage(await browser.openExtensionPage('popup.html'));
  }

  heading(): Locator {
    return this.page.getByRole('heading', { name: 'Countersign' });
  }

  pendingActions(): Locator {
    return this.page.getByRole('region', { name: 'Pending actions' });
  }
}

export class OptionsPage {
  constructor(readonly page: Page) {}

  static async open(browser: ExtensionBrowser): Promise<OptionsPage> {
    return new OptionsPage(await browser.openExtensionPage('options.html'));
  }

  heading(): Locator {
    return this.page.getByRole('heading', { name: 'Countersign settings' });
  }
}
