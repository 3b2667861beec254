// Readers' badges: where a page's posts are, each post's verdict (its receipt, rendered in the page or
// looked up on the verifier by its text's digest, checked against the keys of the verifier in use),
// and each tab's posts kept for the popup. Background only.
import { browser } from 'wxt/browser';
import type { PageSummaryInput } from '../../messaging/contract';
import { ExtensionError } from '../../messaging/errors';
import { adapterFor } from '../../policy/site-adapters';
import { badgeMark } from '../badge-mark';
import { currentPolicyView } from '../policy-store';
import { IssuerKeys, LookedUpVerdicts, VerdictCache } from '../post-verdicts';
import type { ReceiptKeys } from '../post-verdicts';
import { ReceiptLookup, deviceAuthorization } from '../receipt-lookup';
import type { Handlers } from './handlers';
import { verifierUrl } from './verifier';

/** The receipt keys of each verifier, shared by every page's badge checks (refreshed on an unknown kid). */
const keys = new IssuerKeys();
const verdicts = new VerdictCache();
const lookedUp = new LookedUpVerdicts();
const lookup = new ReceiptLookup({ authorize: deviceAuthorization });
/** Without a verifier nothing is looked up: the verdict says no verifier is configured. */
const NO_KEYS: ReceiptKeys = { lookup: async () => undefined };
/** Each tab's posts and verdicts, for the popup; in memory only (a page re-reports on change). */
const pagePosts = new Map<number, PageSummaryInput & { url: string | null }>();

export const badgeHandlers = {
  'cs-bg:badge-config': async (_input, sender) => {
    const view = await currentPolicyView();
    const adapter = adapterFor(view, sender.url!);
    return { posts: adapter?.posts ?? null, markerSelectors: adapter?.assistant?.selectors ?? [], assistantAccounts: view.policy.assistantAccounts, mark: await badgeMark() };
  },
  'cs-bg:verify-posts': async ({ posts }) => {
    const view = await currentPolicyView();
    // The receipts' issuer is the verifier this browser uses: the managed one, else the one it enrolled with.
    const issuer = await verifierUrl(view);
    const ctx = { issuer, assistantAccounts: view.policy.assistantAccounts, keys: issuer ? keys.of(issuer) : NO_KEYS };
    return Promise.all(posts.map((post) => verdicts.get(post, ctx)));
  },
  'cs-bg:lookup-receipts': async ({ posts }, sender) => {
    const view = await currentPolicyView();
    // Only where an adapter says where posts are: no page makes this device ask about other sites' posts.
    if (!adapterFor(view, sender.url!)?.posts) throw new ExtensionError('not_protected', 'no adapter names posts on this page');
    const issuer = await verifierUrl(view);
    const ctx = { issuer, assistantAccounts: view.policy.assistantAccounts, keys: issuer ? keys.of(issuer) : NO_KEYS };
    // The site is the page the browser says sent this, never a name the message carries.
    const found = issuer ? await lookup.find(issuer, new URL(sender.url!).origin, posts.map((p) => p.cdg)) : new Map<string, string[]>();
    return Promise.all(posts.map((post) => lookedUp.get(post, found.get(post.cdg) ?? [], ctx)));
  },
  'cs-bg:page-posts': async (summary, sender) => {
    pagePosts.set(sender.tab!.id!, { ...summary, url: sender.url ?? null });
    return null;
  },
  'ui-bg:page-posts': async () => {
    const [tab] = await browser.tabs.query({ active: true, lastFocusedWindow: true });
    return (tab?.id !== undefined ? pagePosts.get(tab.id) : undefined) ?? { posts: [], url: tab?.url ?? null };
  },
} satisfies Handlers;

/** A closed tab's posts are forgotten. */
export function startBadges(): void {
  browser.tabs.onRemoved.addListener((tabId) => pagePosts.delete(tabId));
}
