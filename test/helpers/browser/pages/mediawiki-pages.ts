// Page objects for MediaWiki 1.39 (Vector, no extensions) as its people see it: the login form, the
// wikitext edit form, a page's rendered text, and Special:UserRights; by role and name where the wiki
// labels things, else by the ids /tmp/mediawiki-facts.md lists. Node only (browser tests).
import type { Locator, Page } from 'playwright-core';
import type { WikiUser } from '../../mediawiki';

const path = (title: string) => encodeURIComponent(title.replace(/ /g, '_')).replace(/%3A/g, ':').replace(/%2F/g, '/');

export class WikiPage {
  constructor(readonly page: Page, readonly base: string) {}

  /** Special:UserLogin, typed and clicked as a person would. */
  async signIn(user: WikiUser): Promise<void> {
    await this.page.goto(`${this.base}/index.php/Special:UserLogin`);
    await this.page.getByLabel('Username').fill(user.name);
    await this.page.getByLabel('Password').fill(user.password);
    await Promise.all([
      this.page.waitForURL((url) => !decodeURIComponent(url.pathname).includes('Special:UserLogin'), { timeout: 15_000 }),
      this.page.getByRole('button', { name: 'Log in' }).click(),
    ]);
  }

  async open(title: string): Promise<void> {
    await this.page.goto(`${this.base}/index.php/${path(title)}`);
  }

  async openEditor(title: string): Promise<void> {
    await this.page.goto(`${this.base}/index.php?title=${path(title)}&action=edit`);
    await this.editBox().waitFor();
  }

  editBox(): Locator {
    return this.page.getByRole('textbox', { name: 'Wikitext source editor' });
  }

  /** An assistant in the page: it writes the wikitext and submits the edit form by script, no person's gesture. */
  async assistantSubmits(text: string): Promise<void> {
    await this.page.evaluate((wikitext) => {
      const form = document.querySelector<HTMLFormElement>('form#editform')!;
      form.querySelector<HTMLTextAreaElement>('#wpTextbox1')!.value = wikitext;
      form.requestSubmit();
    }, text);
  }

  /** A person: replaces the wikitext by typing it, then clicks Save. */
  async typeAndSave(text: string): Promise<void> {
    const box = this.editBox();
    await box.click();
    await this.page.keyboard.press('ControlOrMeta+A');
    await this.page.keyboard.type(text);
    await this.saveButton().click();
  }

  saveButton(): Locator {
    return this.page.getByRole('button', { name: /^Save (changes|page)$/ });
  }

  /** The rendered page text, where the adapter's posts are. */
  content(): Locator {
    return this.page.locator('#mw-content-text > .mw-parser-output');
  }

  /** Countersign's hold notice (its content is in a closed shadow root: only the host is visible). */
  holdNotice(): Locator {
    return this.page.locator('countersign-hold-notice');
  }

  /** Waits for the article view of `title` (where a save redirects). */
  async waitForArticle(title: string): Promise<void> {
    await this.page.waitForURL((url) => decodeURIComponent(url.pathname) === `/index.php/${title.replace(/ /g, '_')}`, { timeout: 15_000 });
  }
}

export class UserRightsPage {
  constructor(readonly page: Page, readonly base: string) {}

  async open(user: string): Promise<void> {
    await this.page.goto(`${this.base}/index.php/Special:UserRights/${path(user)}`);
    await this.form().waitFor();
  }

  form(): Locator {
    return this.page.locator('form#mw-userrights-form2');
  }

  /** A group's checkbox, by its label (`bot`, `administrator`, `bureaucrat`, …). */
  group(label: string): Locator {
    return this.form().getByRole('checkbox', { name: label, exact: true });
  }

  saveButton(): Locator {
    return this.form().getByRole('button', { name: 'Save user groups' });
  }
}
