// Page objects for the extension's own pages, found by role and accessible name. Node only (browser tests).
import type { Locator, Page } from 'playwright-core';
import type { ExtensionBrowser } from '../browser';

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

  /** A held action, by its accessible name: "<agent> <scope>". */
  action(agent: string, scope: string): Locator {
    return this.page.getByRole('listitem', { name: `${agent} ${scope}` });
  }

  async approve(agent: string, scope: string): Promise<void> {
    await this.action(agent, scope).getByRole('button', { name: 'Approve' }).click();
  }

  async reject(agent: string, scope: string, reason?: string): Promise<void> {
    const item = this.action(agent, scope);
    if (reason) await item.getByLabel('Reason').fill(reason);
    await item.getByRole('button', { name: 'Reject' }).click();
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

  /** The list of problems found in the policy (which pattern or field, why), shown only when there are some. */
  policyProblems(): Locator {
    return this.page.getByRole('alert', { name: 'Policy problems' });
  }

  /** The effective value of one policy setting, as the table shows it. */
  policyValue(key: string): Locator {
    return this.page.getByRole('row', { name: new RegExp(`^${key}\\b`) }).getByRole('cell').first();
  }

  /** Enrolls the browser with a one-time code (the verifier URL comes from managed policy). */
  async enroll(code: string, label = 'e2e browser'): Promise<void> {
    await this.page.getByLabel('Enrollment code').fill(code);
    await this.page.getByLabel('Device label').fill(label);
    await this.page.getByRole('button', { name: 'Enroll' }).click();
    await this.page.getByTestId('enrolled-user').waitFor({ timeout: 15_000 });
  }
}
