// Registers the holding content scripts for exactly the sites the policy protects (and those an
// invalid part of it names), so on every other page their cost is nil. Background only.
import { browser } from 'wxt/browser';
import { MatchPattern } from '../protocol';
import type { PolicyView } from './effective-policy';

export const SCRIPT_IDS = { hooks: 'countersign-hooks', hold: 'countersign-hold', badges: 'countersign-badges' } as const;

/** Match patterns to inject on: protected sites plus fail-closed ones, deduplicated, valid only. */
export function injectionPatterns(view: PolicyView): string[] {
  return [...new Set([...view.policy.protectedSites, ...view.failClosed])].filter((p) => MatchPattern.safeParse(p).success);
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Makes the registered scripts match the policy. Calls are serialised: two wake-ups racing through
 * unregister/register would otherwise leave duplicate ids or no scripts at all.
 */
/** Where readers get badges: the pages of adapters that say where their posts are. */
export function badgePatterns(view: PolicyView): string[] {
  return [...new Set(view.policy.adapters.filter((a) => a.posts).flatMap((a) => a.match))];
}

export function syncContentScripts(view: PolicyView): Promise<string[]> {
  const run = queue.then(() => applyRegistration(injectionPatterns(view), badgePatterns(view)));
  queue = run.catch(() => undefined);
  return run;
}

async function applyRegistration(matches: string[], badgeMatches: string[]): Promise<string[]> {
  type Script = Parameters<typeof browser.scripting.registerContentScripts>[0][number];
  const wanted: Script[] = [];
  if (matches.length) {
    wanted.push(
      { id: SCRIPT_IDS.hooks, matches, js: ['content-scripts/hooks.js'], runAt: 'document_start', world: 'MAIN', allFrames: false, persistAcrossSessions: true },
      { id: SCRIPT_IDS.hold, matches, js: ['content-scripts/hold.js'], runAt: 'document_start', allFrames: false, persistAcrossSessions: true },
    );
  }
  if (badgeMatches.length) {
    wanted.push({ id: SCRIPT_IDS.badges, matches: badgeMatches, js: ['content-scripts/badges.js'], runAt: 'document_idle', allFrames: false, persistAcrossSessions: true });
  }
  const key = (scripts: Array<{ id: string; matches?: string[] }>) => JSON.stringify(scripts.map((s) => [s.id, [...(s.matches ?? [])].sort()]).sort());
  const registered = await browser.scripting.getRegisteredContentScripts({ ids: Object.values(SCRIPT_IDS) });
  if (key(registered) === key(wanted)) return matches;
  if (registered.length) await browser.scripting.unregisterContentScripts({ ids: registered.map((s) => s.id) });
  if (wanted.length) await browser.scripting.registerContentScripts(wanted);
  return matches;
}
