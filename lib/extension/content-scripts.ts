// Registers the holding content scripts for exactly the sites the policy protects (and those an
// invalid part of it names), so on every other page their cost is nil. Only patterns Chrome takes are
// registered: one it refuses would make it refuse the whole registration, protecting nothing; should
// Chrome still refuse one, it is found, reported as a policy problem, and its site fails closed. On
// Firefox, which has no ports in match patterns, each is registered without its port (firefox-patterns.ts).
// Background only.
import { browser } from 'wxt/browser';
import { siteOfPattern } from '../protocol';
import type { PolicyProblem, PolicyView } from '../policy/effective-policy';
import { closedClause } from '../policy/effective-policy';
import { registrablePattern, registrationRefusal } from '../policy/match-patterns';
import { patternsForBrowser } from './firefox-patterns';

export const SCRIPT_IDS = { hooks: 'countersign-hooks', hold: 'countersign-hold', badges: 'countersign-badges' } as const;
/** A one-pattern registration that asks Chrome whether it takes a pattern; removed at once. */
const PROBE_ID = 'countersign-probe';

const unique = (patterns: Array<string | null>) => [...new Set(patterns.filter((p): p is string => p !== null))];

/** Match patterns to inject on: protected sites plus fail-closed ones, each as Chrome takes it (an unusable one as the site it names). */
export function injectionPatterns(view: PolicyView): string[] {
  return unique([...view.policy.protectedSites, ...view.failClosed].map(registrablePattern));
}

/** Where readers get badges: the pages of adapters that say where their posts are. */
export function badgePatterns(view: PolicyView): string[] {
  return unique(view.policy.adapters.filter((a) => a.posts).flatMap((a) => a.match.map((p) => (registrationRefusal(p) === null ? p : null))));
}

/** A pattern Chrome refused although Countersign's parser took it, and the site registered instead. */
export interface RegistrationRefusal {
  pattern: string;
  reason: string;
  site: string | null;
}

let refusals: RegistrationRefusal[] = [];

/** What Chrome refused at the last registration, as policy problems, and the sites that fail closed for it. */
export function registrationProblems(): { problems: PolicyProblem[]; failClosed: string[] } {
  return {
    problems: refusals.map((r) => ({
      source: 'browser',
      field: 'content scripts',
      message: `Chrome refused the match pattern ${JSON.stringify(r.pattern)} (${r.reason}); ${closedClause(r.site ? [r.site] : [])}`,
      closes: r.site ? [r.site] : [],
    })),
    failClosed: unique(refusals.map((r) => r.site)),
  };
}

/** The view with what Chrome refused added: its problems shown, its sites failed closed. */
export function withRegistrationProblems(view: PolicyView): PolicyView {
  const extra = registrationProblems();
  if (!extra.problems.length) return view;
  return { ...view, problems: [...view.problems, ...extra.problems], failClosed: unique([...view.failClosed, ...extra.failClosed]) };
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Makes the registered scripts match the policy. Calls are serialised: two wake-ups racing through
 * unregister/register would otherwise leave duplicate ids or no scripts at all.
 */
export function syncContentScripts(view: PolicyView): Promise<string[]> {
  const run = queue.then(() => applyRegistration(injectionPatterns(view), badgePatterns(view)));
  queue = run.catch(() => undefined);
  return run;
}

type Script = Parameters<typeof browser.scripting.registerContentScripts>[0][number];

/** Firefox takes no ports in match patterns (see firefox-patterns.ts): a build-time constant. */
const forBrowser = (patterns: string[]) => patternsForBrowser(patterns, import.meta.env.FIREFOX);

function scriptsFor(policyMatches: string[], policyBadgeMatches: string[]): Script[] {
  const [matches, badgeMatches] = [forBrowser(policyMatches), forBrowser(policyBadgeMatches)];
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
  return wanted;
}

async function applyRegistration(matches: string[], badgeMatches: string[]): Promise<string[]> {
  let wanted = scriptsFor(matches, badgeMatches);
  const key = (scripts: Array<{ id: string; matches?: string[] }>) => JSON.stringify(scripts.map((s) => [s.id, [...(s.matches ?? [])].sort()]).sort());
  const registered = await browser.scripting.getRegisteredContentScripts({ ids: Object.values(SCRIPT_IDS) });
  if (key(registered) === key(wanted) && !refusals.length) return matches;
  if (registered.length) await browser.scripting.unregisterContentScripts({ ids: registered.map((s) => s.id) });
  refusals = [];
  if (!wanted.length) return matches;
  try {
    await browser.scripting.registerContentScripts(wanted);
    return matches;
  } catch (error) {
    refusals = await findRefused(unique([...matches, ...badgeMatches]));
    if (!refusals.length) throw error;
  }
  const replace = (list: string[]) => unique(list.map((p) => (refusals.some((r) => r.pattern === p) ? (refusals.find((r) => r.pattern === p)!.site ?? null) : p)));
  const kept = replace(matches);
  wanted = scriptsFor(kept, replace(badgeMatches));
  if (wanted.length) await browser.scripting.registerContentScripts(wanted);
  return kept;
}

/** Asks Chrome, one pattern at a time, which it refuses; for each, whether it takes the site the pattern names. */
async function findRefused(patterns: string[]): Promise<RegistrationRefusal[]> {
  const out: RegistrationRefusal[] = [];
  const takes = async (pattern: string): Promise<string | null> => {
    try {
      await browser.scripting.registerContentScripts([{ id: PROBE_ID, matches: forBrowser([pattern]), js: ['content-scripts/hold.js'], persistAcrossSessions: false }]);
      await browser.scripting.unregisterContentScripts({ ids: [PROBE_ID] });
      return null;
    } catch (error) {
      await browser.scripting.unregisterContentScripts({ ids: [PROBE_ID] }).catch(() => undefined);
      return error instanceof Error ? error.message : String(error);
    }
  };
  for (const pattern of patterns) {
    const reason = await takes(pattern);
    if (reason === null) continue;
    const site = siteOfPattern(pattern);
    out.push({ pattern, reason, site: site !== null && site !== pattern && (await takes(site)) === null ? site : null });
  }
  return out;
}
