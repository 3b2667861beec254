// Page objects for the demo tools (Intraforum and the Access console), by role and name. Node only (browser tests).
import type { Locator, Page } from 'playwright-core';

async function signIn(page: Page, base: string, user: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel(/user/i).selectOption(user).catch(async () => page.getByLabel(/user/i).fill(user));
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 15_000 }), page.getByRole('button', { name: /sign in/i }).click()]);
}

export class ForumPage {
  constructor(readonly page: Page, readonly base: string) {}

  signIn(user: string): Promise<void> {
    return signIn(this.page, this.base, user);
  }

  async openTopic(id: number): Promise<void> {
    await this.page.goto(`${this.base}/t/${id}`);
  }

  posts(): Locator {
    return this.page.locator('article.post');
  }

  async askAssistant(): Promise<void> {
    await this.page.getByRole('button', { name: 'Ask the assistant' }).click();
  }

  status(): Locator {
    return this.page.getByRole('status').first();
  }

  async reply(text: string): Promise<void> {
    await this.page.getByRole('textbox', { name: /reply/i }).fill(text);
    await this.page.getByRole('button', { name: 'Post reply' }).click();
  }
}

export class ConsolePage {
  constructor(readonly page: Page, readonly base: string) {}

  signIn(user: string): Promise<void> {
    return signIn(this.page, this.base, user);
  }

  async openDataset(id: string): Promise<void> {
    await this.page.goto(`${this.base}/datasets/${id}`);
  }

  async applySuggestion(): Promise<void> {
    await this.page.getByRole('button', { name: 'Apply suggestion' }).click();
  }

  status(): Locator {
    return this.page.getByRole('status').first();
  }
}
