// Batch review in browser tests: assistant posts held in several forum tabs (one topic each, so each
// request and digest differs), and a page object for the popup's batch ("Review N together", its items,
// "Approve selected", each item's outcome). Node only (browser tests).
import type { Locator, Page } from 'playwright-core';
import { ReceiptClaims } from '@/lib/protocol/index';
import type { ExtensionBrowser } from './browser';
import { ForumPage } from './pages/demo-pages';
import { PopupPage } from './pages/extension-pages';
import type { Stack } from './stack';

/** A receipt's claims, read without verifying (the tool verified it when it stored it; the test compares them). */
export function receiptClaims(receipt: string): ReceiptClaims {
  return ReceiptClaims.parse(JSON.parse(Buffer.from(receipt.split('.')[1] ?? '', 'base64url').toString('utf8')));
}

/** Topics 1 to n, making the ones the demo did not seed. */
export function forumTopics(stack: Stack, n: number): number[] {
  const topics = stack.demo.store.listTopics().map((t) => t.id);
  while (topics.length < n) topics.push(stack.demo.store.createTopic(`Batch topic ${topics.length + 1}`).id);
  return topics.slice(0, n);
}

/** alice, signed in once (the tabs share the session), asks the assistant in one tab per topic: each post is held. */
export async function askInTabs(browser: ExtensionBrowser, stack: Stack, topics: readonly number[]): Promise<ForumPage[]> {
  const tabs: ForumPage[] = [];
  for (const [i, topic] of topics.entries()) {
    const forum = new ForumPage(await browser.context.newPage(), stack.forumUrl);
    if (i === 0) await forum.signIn('alice');
    await forum.openTopic(topic);
    await forum.askAssistant();
    tabs.push(forum);
  }
  return tabs;
}

/** What the assistant widget of a tab says (Posted, expired, …). */
export const assistantStatus = (forum: ForumPage) => forum.page.locator('[data-assistant-status]');

export class BatchPanel {
  constructor(readonly popup: PopupPage) {}

  get page(): Page {
    return this.popup.page;
  }

  /** The "Review N together" button (the list offers it once N held actions of one agent and scope wait). */
  offer(n: number): Locator {
    return this.page.getByRole('button', { name: `Review ${n} together` });
  }

  async open(n: number): Promise<void> {
    await this.offer(n).waitFor({ timeout: 15_000 });
    await this.offer(n).click();
    await this.region().waitFor();
  }

  region(): Locator {
    return this.page.getByRole('region', { name: 'Batch review' });
  }

  items(): Locator {
    return this.region().getByRole('list', { name: 'Batch items' }).getByRole('listitem');
  }

  /** The i-th item (0-based), as the list shows it. */
  item(i: number): Locator {
    return this.items().nth(i);
  }

  approveButton(): Locator {
    return this.region().getByRole('button', { name: /^Approve selected/ });
  }

  async approveSelected(): Promise<void> {
    await this.approveButton().click();
    await this.summary().waitFor({ timeout: 15_000 });
  }

  /** The item that posts to this forum topic (its request line names the topic). */
  itemFor(topic: number): Locator {
    return this.items().filter({ hasText: `POST /api/topics/${topic}/replies` });
  }

  /** What the background answered for an item. */
  outcome(item: Locator): Locator {
    return item.getByRole('status', { name: 'Outcome' });
  }

  summary(): Locator {
    return this.region().getByRole('status', { name: 'Batch outcome' });
  }
}

export async function openBatch(browser: ExtensionBrowser, n: number): Promise<BatchPanel> {
  const panel = new BatchPanel(await PopupPage.open(browser));
  await panel.open(n);
  return panel;
}
