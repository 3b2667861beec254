// Page objects for Firefox tests (puppeteer-core over WebDriver BiDi): the extension's options page and
// popup, opened as tabs at their moz-extension:// URLs, and the demo forum; found by ARIA role and name
// where the Chromium ones are, so both browsers are driven alike. Node only (Firefox browser tests).
import type { ElementHandle, Page } from 'puppeteer-core';
import type { FirefoxWithExtension } from './firefox';

/** An ARIA selector: the element of this role whose accessible name is exactly `name`. */
export const aria = (role: string, name: string) => `::-p-aria([name=${JSON.stringify(name)}][role=${JSON.stringify(role)}])`;

const text = (el: ElementHandle) => el.evaluate((e) => e.textContent ?? '');

export class FirefoxOptionsPage {
  constructor(readonly page: Page) {}

  static async open(firefox: FirefoxWithExtension): Promise<FirefoxOptionsPage> {
    const page = await firefox.openExtensionPage('options.html');
    await page.waitForSelector(aria('heading', 'Countersign settings'));
    return new FirefoxOptionsPage(page);
  }

  /** Each problem the policy view lists (which field or pattern, and why); waits for the list when `wait`. */
  async policyProblems(wait = true): Promise<Array<{ source: string; text: string }>> {
    if (wait) await this.page.waitForSelector(aria('alert', 'Policy problems'));
    return this.page.$$eval('[data-testid="policy-problem"]', (items) => items.map((li) => ({ source: li.getAttribute('data-source') ?? '', text: li.textContent ?? '' })));
  }

  /** The effective value of one setting and where it came from, as the policy table shows them. */
  async policyRow(key: string): Promise<{ value: string; source: string }> {
    const source = await this.page.waitForSelector(`[data-testid="policy-source-${key}"]`);
    return source!.evaluate((cell) => ({ value: cell.previousElementSibling?.textContent ?? '', source: cell.textContent ?? '' }));
  }

  /**
   * Enrolls with a one-time code (the verifier URL comes from managed policy), without an authenticator:
   * the Firefox tests have no virtual one, and a forum post needs no presence.
   */
  async enrollWithoutAuthenticator(code: string, label = 'firefox e2e'): Promise<string> {
    const page = this.page;
    await page.locator(aria('textbox', 'Enrollment code')).fill(code);
    await page.locator(aria('textbox', 'Device label')).fill(label);
    const register = await page.waitForSelector('::-p-aria([role="checkbox"])');
    if (await register!.evaluate((box) => (box as HTMLInputElement).checked)) await register!.click();
    await page.locator(aria('button', 'Enroll')).click();
    const enrolled = await page.waitForSelector('[data-testid="enrolled-user"]', { timeout: 15_000 });
    return text(enrolled!);
  }
}

export class FirefoxPopupPage {
  constructor(readonly page: Page) {}

  static async open(firefox: FirefoxWithExtension): Promise<FirefoxPopupPage> {
    const page = await firefox.openExtensionPage('popup.html');
    await page.waitForSelector(aria('heading', 'Countersign'));
    return new FirefoxPopupPage(page);
  }

  /** A held action, by its accessible name "<agent> <scope>", once it is listed. */
  async action(agent: string, scope: string): Promise<ElementHandle> {
    return (await this.page.waitForSelector(aria('listitem', `${agent} ${scope}`), { timeout: 15_000 }))!;
  }

  /** The text of a labelled part of a held action (its "Post text", say: a paragraph, whose label the accessibility tree leaves out). */
  async actionPart(item: ElementHandle, label: string): Promise<string> {
    const part = await item.waitForSelector(`[aria-label=${JSON.stringify(label)}]`);
    return text(part!);
  }

  async approveButton(item: ElementHandle): Promise<ElementHandle<HTMLButtonElement>> {
    return (await item.waitForSelector(aria('button', 'Approve'))) as ElementHandle<HTMLButtonElement>;
  }

  /** The kill-switch notice's text, once shown. */
  async killSwitchNotice(timeout = 15_000): Promise<string> {
    return text((await this.page.waitForSelector(aria('alert', 'Kill switch'), { timeout }))!);
  }
}

export class FirefoxForumPage {
  constructor(readonly page: Page, readonly base: string) {}

  async signIn(user: string): Promise<void> {
    await this.page.goto(`${this.base}/login`);
    await this.page.select('#user', user);
    await Promise.all([this.page.waitForNavigation(), this.page.locator(aria('button', 'Sign in')).click()]);
  }

  async openTopic(id: number): Promise<void> {
    await this.page.goto(`${this.base}/t/${id}`);
  }

  async askAssistant(): Promise<void> {
    await this.page.locator(aria('button', 'Ask the assistant')).click();
  }

  /** The assistant widget's status line ("Posted", "Waiting for approval…"). */
  assistantStatus(): Promise<string> {
    return this.page.$eval('[data-assistant-status]', (el) => el.textContent ?? '');
  }

  /** Whether the extension's hold notice is on the page (its shadow root is closed: only the host shows). */
  holdNoticeCount(): Promise<number> {
    return this.page.$$eval('countersign-hold-notice', (hosts) => hosts.length);
  }

  /** A person's reply: clicks into the box, types with the keyboard, clicks "Post reply". */
  async typeAndPostReply(body: string): Promise<void> {
    await this.page.locator('#reply-body').click();
    await this.page.keyboard.type(body);
    await this.page.locator(aria('button', 'Post reply')).click();
  }
}
