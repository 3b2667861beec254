// "Test this page": what the effective policy does on one URL — protected or not, by which adapter
// (and the layer it came from) with the actions that hold which requests, blocked, or failing closed
// because of a policy problem, and why — decided by the same functions the extension holds with.
// Runtime-neutral, pure.
import { bestMatch, matchesAny } from '../protocol/index';
import type { AdapterAction } from '../protocol/index';
import { sitesClosedBy } from './effective-policy';
import type { AdapterSource, PolicyProblem, PolicyView } from './effective-policy';
import { adapterFor, isProtected } from './site-adapters';

/** One action of the page's adapter: which requests it holds, and whose. */
export interface CheckedAction {
  scope: string;
  method: string;
  /** The path pattern on the page's origin (`*` one segment). */
  url: string;
  /** `agents`: an assistant's requests are held; `always`: a person's too. */
  requires: 'agents' | 'always';
}

/** A fail-closed pattern that includes the URL, and the problems that name it (the why). */
export interface FailClosedReason {
  pattern: string;
  problems: PolicyProblem[];
}

export interface PageCheck {
  url: string;
  /** True when the extension holds requests here: a protected site, or one failing closed. */
  protected: boolean;
  /** The protectedSites patterns that include the URL. */
  protectedBy: string[];
  /** The adapter the page gets, or null (none matches, or the page is not protected). */
  adapter: { id: string; source: AdapterSource; match: string[]; agent: string | null; actions: CheckedAction[] } | null;
  /** Adapters that match the URL but lose to `adapter` (or apply nowhere, the page not being protected). */
  otherAdapters: string[];
  /** The blockedSites patterns that include the URL: an assistant's actions are refused here. */
  blockedBy: string[];
  /** Non-empty: an invalid part of the policy names this site; held, never released until it is fixed. */
  failClosed: FailClosedReason[];
  killSwitch: boolean;
  /** Why it is on, as the background says (empty when only the policy's value is known). */
  killReasons: string[];
  /** One sentence per finding, in the order an admin reads them. */
  findings: string[];
}

/** The kill switch as the background found it (policy and verifier); without it, the policy's own. */
export interface KillInput {
  engaged: boolean;
  reasons: string[];
}

export type PageCheckResult = { ok: true; check: PageCheck } | { ok: false; message: string };

const PAGE_SCHEMES = new Set(['http:', 'https:']);

/** Checks one URL as typed (trimmed); a URL that is none, or no http(s) page, is a message saying so. */
export function checkPage(view: PolicyView, input: string, kill: KillInput = { engaged: view.policy.killSwitch, reasons: [] }): PageCheckResult {
  const text = input.trim();
  if (!text) return { ok: false, message: 'Enter a page URL to test, e.g. https://forum.corp.example/t/1.' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: `${JSON.stringify(text)} is not an absolute URL: enter one with its scheme, e.g. https://forum.corp.example/t/1.` };
  }
  if (!PAGE_SCHEMES.has(url.protocol)) return { ok: false, message: `Countersign holds requests on http and https pages only; a ${url.protocol.slice(0, -1)} URL is never protected.` };
  const href = url.href;

  const protectedBy = view.policy.protectedSites.filter((p) => matchesAny([p], url));
  const failClosed = view.failClosed.filter((p) => matchesAny([p], url)).map((pattern) => ({ pattern, problems: view.problems.filter((q) => sitesClosedBy(q).includes(pattern)) }));
  const protectedSite = isProtected(view, href);
  const matching = view.policy.adapters.filter((a) => bestMatch(a.match, url) !== null);
  const chosen = protectedSite ? adapterFor(view, href) : null;
  const adapter = chosen
    ? {
        id: chosen.id,
        source: view.adapterSources[chosen.id] ?? 'built-in',
        match: chosen.match.filter((p) => matchesAny([p], url)),
        agent: chosen.agent ?? null,
        actions: chosen.actions.map(checkedAction),
      }
    : null;
  const otherAdapters = matching.filter((a) => a !== chosen).map((a) => a.id);
  const blockedBy = view.policy.blockedSites.filter((p) => matchesAny([p], url));
  const check: PageCheck = { url: href, protected: protectedSite, protectedBy, adapter, otherAdapters, blockedBy, failClosed, killSwitch: kill.engaged, killReasons: kill.engaged ? kill.reasons : [], findings: [] };
  check.findings = findings(check, view.verifier?.version ?? null);
  return { ok: true, check };
}

function checkedAction(action: AdapterAction): CheckedAction {
  return { scope: action.scope, method: action.request.method, url: action.request.url, requires: action.requires ?? 'agents' };
}

/** What an action holds, as one line: `forum.post: POST /api/topics/*\/replies, held when an assistant sends it`. */
export function actionText(action: CheckedAction): string {
  const whose = action.requires === 'always' ? 'held always, a person\'s request too' : 'held when an assistant sends it';
  return `${action.scope}: ${action.method} ${action.url}, ${whose}`;
}

/** The layer an adapter came from, as an admin names it. */
export function adapterLayerText(source: AdapterSource, verifierVersion: number | null): string {
  if (source === 'verifier') return `the verifier's organisation policy (version ${verifierVersion ?? '?'})`;
  return source === 'managed' ? 'managed policy' : source === 'local' ? 'local settings' : 'built in';
}

function findings(check: PageCheck, verifierVersion: number | null): string[] {
  const out: string[] = [];
  if (check.killSwitch) out.push(`The kill switch is on${check.killReasons.length ? ` (${check.killReasons.join(' ')})` : ''}: nothing an assistant does is approved or released anywhere until it is off.`);
  if (check.failClosed.length) {
    for (const reason of check.failClosed) {
      const why = reason.problems.length ? reason.problems.map((p) => `${p.source} ${p.field}${p.adapterId ? ` (adapter ${p.adapterId})` : ''}: ${p.message}`).join(' ') : 'an invalid part of the policy names this site.';
      out.push(`Fails closed under ${reason.pattern}: requests are held and never released until the policy is fixed. Why: ${why}`);
    }
  }
  if (!check.protected) {
    out.push('Not protected: no protectedSites pattern includes this URL, so Countersign holds nothing here.');
    if (check.otherAdapters.length) out.push(`The adapter ${check.otherAdapters.join(', ')} matches this URL, but applies only where protectedSites names the site: add its pattern there to protect it.`);
  } else {
    if (check.protectedBy.length) out.push(`Protected by protectedSites ${check.protectedBy.join(', ')}.`);
    if (check.adapter) {
      const a = check.adapter;
      out.push(`Adapter ${a.id} (from ${adapterLayerText(a.source, verifierVersion)}, matching ${a.match.join(', ')}${a.agent ? `; its assistant is ${a.agent}` : ''}).`);
      if (a.actions.length) for (const action of a.actions) out.push(`Action ${actionText(action)}.`);
      else out.push(`The adapter ${a.id} names no actions.`);
      out.push(`Any other request an assistant sends on this site is refused: it is none of the ${a.id} adapter's actions.`);
      if (check.otherAdapters.length) out.push(`Also matching, but not applied here: ${check.otherAdapters.join(', ')} (an admin's adapter beats a built-in one, then the most specific match wins).`);
    } else {
      out.push('No adapter matches this URL: every request other than GET an assistant sends to this origin is held as a generic write (generic.write), its content unknown.');
    }
  }
  if (check.blockedBy.length) {
    out.push(
      check.protected
        ? `Blocked by blockedSites ${check.blockedBy.join(', ')}: an assistant's actions here are held and can never be approved or released.`
        : `Listed in blockedSites ${check.blockedBy.join(', ')}, but the site is not protected, so Countersign sees no request here to block: name it in protectedSites too.`,
    );
  }
  return out;
}
