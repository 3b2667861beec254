// What the browser benchmarks share: the same Chromium without any extension (the baseline, launched
// with the flags test/helpers/browser/browser.ts uses, minus the extension), medians, and the
// signed-in forum page. Node only (bench).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { ForumPage } from '../test/helpers/browser/pages/demo-pages';
import { AS_PERSON_FLAG, CHROMIUM, CHROMIUM_FLAGS } from '../test/helpers/browser/browser';

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

export function median(values: number[]): number {
  if (!values.length) throw new Error('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A new tab in `context`, signed in to the forum as `user`. */
export async function forumTab(context: BrowserContext, forumUrl: string, user = 'bob'): Promise<Page> {
  const forum = new ForumPage(await context.newPage(), forumUrl);
  await forum.signIn(user);
  return forum.page;
}
