// What the browser benchmarks share: the same Chromium without any extension (the baseline, launched
// with the flags test/helpers/browser/browser.ts uses, minus the extension), both browsers set up
// side by side, medians, and the signed-in forum page. Node only (bench).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { AS_PERSON_FLAG, CHROMIUM, CHROMIUM_FLAGS, launchWithExtension } from '../test/helpers/browser/browser';
import type { ExtensionBrowser } from '../test/helpers/browser/browser';
import { removeManagedPolicy, writeManagedPolicy } from '../test/helpers/browser/managed-policy';
import { ForumPage } from '../test/helpers/browser/pages/demo-pages';
import { demoPolicy, enrollAs, waitForProtection } from '../test/helpers/browser/protection';
import type { Stack } from '../test/helpers/browser/stack';
export { median } from './repeat';

export interface PlainBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with no extension at all, otherwise launched like the extension's browser (as a person). */
export async function launchPlain(): Promise<PlainBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'cs-bench-plain-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--disable-extensions', ...CHROMIUM_FLAGS, AS_PERSON_FLAG],
    viewport: { width: 1100, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new tab in `context`, signed in to the forum as `user`. */
export async function forumTab(context: BrowserContext, forumUrl: string, user = 'bob'): Promise<Page> {
  const forum = new ForumPage(await context.newPage(), forumUrl);
  await forum.signIn(user);
  return forum.page;
}

export interface BenchBrowsers {
  ext: ExtensionBrowser;
  plain: PlainBrowser;
  /** A forum tab signed in as alice in each. */
  extTab: Page;
  plainTab: Page;
}

/**
 * Runs `fn` with both browsers on `stack`: the demo's managed policy written, the extension's browser
 * launched as a person (held assistant posts are held by their markers either way), protected and
 * enrolled as alice, and the plain one beside it. Both closed and the policy removed afterwards.
 */
export async function withBrowsers<T>(stack: Stack, fn: (b: BenchBrowsers) => Promise<T>): Promise<T> {
  writeManagedPolicy(demoPolicy(stack));
  const ext = await launchWithExtension({ asPerson: true });
  const plain = await launchPlain();
  try {
    await waitForProtection(ext);
    await enrollAs(ext, stack);
    return await fn({ ext, plain, extTab: await forumTab(ext.context, stack.forumUrl, 'alice'), plainTab: await forumTab(plain.context, stack.forumUrl, 'alice') });
  } finally {
    await ext.close();
    await plain.close();
    removeManagedPolicy();
  }
}
