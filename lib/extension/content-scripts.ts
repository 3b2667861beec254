// Registers the holding content scripts for exactly the sites the policy protects (and those an
// invalid part of it names), so on every other page their cost is nil. Background only.
import { browser } from 'wxt/browser';
import { MatchPattern } from '../protocol';
import type { PolicyView } from './effective-policy';

export const SCRIPT_IDS = { hooks: 'countersign-hooks', hold: 'countersign-hold' } as const;

/** Match patterns to inject on: protected sites plus fail-closed ones, deduplicated, valid only. */
export function injectionPatterns(view: PolicyView): string[] {
  return [...new Set([...view.policy.protectedSites, ...view.failClosed])].filter((p) => MatchPattern.safeParse(p).success);
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Makes the registered scripts match the policy. Calls are serialised: two wake-ups racing through
 * unregister/register would otherwise leave duplicate ids or no scripts at all.
 */
export function syncContentScripts(view: PolicyView): Promise<string[]> {
  const run = queue.then(() => applyRegistration(injectionPatterns(view)));
  queue = run.catch(() => undefined);
  return run;
}

async function applyRegistration(matches: string[]): Promise<string[]> {
  const registered = await browser.scripting.getRegisteredContentScripts({ ids: Object.values(SCRIPT_IDS) });
  const same = registered.length === 2 && registered.every((s) => JSON.stringify([...(s.matches ?? [])].sort()) === JSON.stringify([...matches].sort()));
  if (same) return matches;
  if (registered.length) await browser.scripting.unregisterContentScripts({ ids: registered.map((s) => s.id) });
  if (!matches.length) return matches;
  await browser.scripting.registerContentScripts([
    { id: SCRIPT_IDS.hooks, matches, js: ['content-scripts/hooks.js'], runAt: 'document_start', world: 'MAIN', allFrames: false, persistAcrossSessions: true },
    { id: SCRIPT_IDS.hold, matches, js: ['content-scripts/hold.js'], runAt: 'document_start', allFrames: false, persistAcrossSessions: true },
  ]);
  return matches;
}
