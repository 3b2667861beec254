// Readers' badges on a tool that renders no receipts, end to end in linkedom: the badge script's
// messages go through the router's checks to the background's real handlers, which ask a fake
// verifier for the receipts of each post's text digest and verify them. A post whose text the
// verifier holds a genuine receipt for gets the verified badge; a person's post gets none; a receipt
// for another post's text, one with a forged signature or from another issuer gets none; a verifier
// that is down leaves no verified badge and is asked once. Node only (tests: linkedom, fakeBrowser,
// fake IndexedDB).
import 'fake-indexeddb/auto';
import { parseHTML } from 'linkedom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import { startBadges } from '@/lib/content/badges';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { deviceKey } from '@/lib/extension/device-key';
import { badgeHandlers } from '@/lib/extension/features/badges';
import { dispatch } from '@/lib/extension/router';
import type { Handler } from '@/lib/extension/router';
import { messenger } from '@/lib/messaging/messenger';
import type { ToBackgroundType } from '@/lib/messaging/contract';
import { generateEs256KeyPair } from '@/lib/protocol';
import type { SiteAdapter } from '@/lib/protocol';
import { receiptVerifier } from '../../../helpers/receipt-verifier';
import type { ReceiptVerifier } from '../../../helpers/receipt-verifier';

vi.mock('@/lib/messaging/messenger', () => ({ messenger: { sendMessage: vi.fn() } }));

const SITE = 'http://wiki.corp:8090';
const PAGE = `${SITE}/index.php?title=Runbook`;
const SELF = { id: fakeBrowser.runtime.id, origin: `chrome-extension://${fakeBrowser.runtime.id}` };
const sender = { id: SELF.id, url: PAGE, origin: SITE, tab: { id: 7 }, frameId: 0 };
const forum: SiteAdapter = { id: 'tracker', match: [`${SITE}/*`], actions: [], assistant: { selectors: ['.ai-draft'] }, posts: { container: 'article.post', author: '.author', body: '.post-body' } };
const wiki: SiteAdapter = { id: 'wiki', match: [`${SITE}/*`], actions: [], posts: { container: '.mw-parser-output', body: '.mw-parser-output' } };

let verifier: ReceiptVerifier;
let n = 0;
const sent: Array<[string, unknown]> = [];

async function setUp(adapter: SiteAdapter) {
  fakeBrowser.reset();
  verifier = await receiptVerifier(`http://verifier-${++n}.test`);
  vi.stubGlobal('fetch', verifier.fetchFn);
  useDatabase(new CountersignDb(`cs-badges-page-${crypto.randomUUID()}`));
  const key = await deviceKey();
  await db().enrollment.put({ id: 'current', verifierUrl: verifier.issuer, deviceId: 'device-1', userId: 'alice', kid: key.kid, label: 't', enrolledAt: Date.now() });
  await fakeBrowser.storage.local.set({ policy: { protectedSites: [`${SITE}/*`], assistantAccounts: ['wiki-helper'], adapters: JSON.stringify([adapter]) } });
  sent.length = 0;
  // The messenger, as the background's router receives it: sender checked, payload parsed, then the real handler.
  vi.mocked(messenger.sendMessage).mockImplementation((async (type: ToBackgroundType, data: unknown) => {
    sent.push([type, data]);
    return dispatch(type, data ?? {}, sender, badgeHandlers[type as keyof typeof badgeHandlers] as Handler<typeof type>, SELF);
  }) as never);
}

/** Loads `body` as the page and runs the badge script until its first pass has reported to the popup. */
async function load(body: string) {
  const window = parseHTML(`<html><body>${body}</body></html>`);
  const roots = new Map<Element, ShadowRoot>();
  const { HTMLElement, Element } = window;
  const attach = HTMLElement.prototype.attachShadow;
  HTMLElement.prototype.attachShadow = function (this: HTMLElement, init: ShadowRootInit) {
    const root = attach.call(this, init) as ShadowRoot;
    roots.set(this, root);
    return root;
  };
  // linkedom knows no :defined; no element name is defined by this page.
  const matches = Element.prototype.matches;
  Element.prototype.matches = function (this: Element, selector: string) {
    return selector === ':defined' ? false : matches.call(this, selector);
  };
  vi.stubGlobal('document', window.document);
  vi.stubGlobal('Element', Element);
  vi.stubGlobal('MutationObserver', window.MutationObserver);
  const ctx = {
    isInvalid: false,
    // As WXT's: a frame asked for before the context ended does not run after it.
    requestAnimationFrame: (cb: () => void) => setTimeout(() => ctx.isInvalid || cb(), 0),
    onInvalidated: (cb: () => void) => void invalidated.push(cb),
  } as unknown as ContentScriptContext;
  invalidate = () => {
    (ctx as { isInvalid: boolean }).isInvalid = true;
    for (const cb of invalidated.splice(0)) cb();
  };
  await startBadges(ctx);
  await vi.waitFor(() => expect(sent.some(([type]) => type === 'cs-bg:page-posts')).toBe(true));
  const doc = window.document as unknown as Document;
  /** The badge label drawn in each post (by id), or null. */
  const badge = (post: Element) => {
    const host = [...roots.keys()].find((h) => post.contains(h));
    return host ? roots.get(host)!.querySelector('button')!.className : null;
  };
  return { doc, badge, roots };
}

const post = (id: string, author: string, text: string, extra = '') => `<article class="post" id="${id}"><header><span class="author">${author}</span></header><div class="post-body">${extra}${text}</div></article>`;

/** The page's script context ends with each test (its observer disconnected), before the globals go. */
const invalidated: Array<() => void> = [];
let invalidate = () => undefined as void;
afterEach(() => {
  invalidate();
  vi.unstubAllGlobals();
});

describe('badges from receipts looked up by text digest', () => {
  beforeEach(() => setUp(forum));

  it('the verified badge from the verifier\'s receipt for the post\'s text; none for a person\'s post; unverified AI for an assistant\'s without one', async () => {
    await verifier.approve(SITE, 'Rotate the signing keys every quarter.', { agent: 'agent:wiki-helper', approver: 'bob' });
    const { doc, badge } = await load([
      post('approved', 'wiki-helper', 'Rotate the signing   keys every quarter.'),
      post('person', 'carol', 'I will do it on Monday.'),
      post('draft', 'dave', 'Also rotate the backups.', '<span class="ai-draft"></span>'),
    ].join(''));
    expect(['approved', 'person', 'draft'].map((id) => badge(doc.getElementById(id)!))).toEqual(['verified', null, 'unverified-ai']);
    // One message for the page's posts, one call to the verifier.
    expect(sent.filter(([type]) => type === 'cs-bg:lookup-receipts')).toHaveLength(1);
    expect(verifier.calls).toHaveLength(1);
    expect(verifier.calls[0]!.body.cdgs).toHaveLength(3);
    // The popup's list names who approved it.
    expect(sent.find(([type]) => type === 'cs-bg:page-posts')![1]).toMatchObject({ posts: [{ state: 'verified', agent: 'agent:wiki-helper', approver: 'bob' }, { state: 'unverified-ai' }] });
  });

  it('a receipt for another post\'s text gets no badge, even when the verifier files it under this post\'s digest', async () => {
    await verifier.keep(SITE, 'Keep the old keys.', await verifier.receipt('Grant everyone admin.'));
    const { doc, badge } = await load(post('p', 'carol', 'Keep the old keys.'));
    expect(badge(doc.getElementById('p')!)).toBeNull();
    expect(verifier.calls).toHaveLength(1);
  });

  it('a receipt whose signature is not the verifier\'s gets no badge', async () => {
    const forged = await verifier.receipt('Keep the old keys.', { privateKey: (await generateEs256KeyPair()).privateKey });
    await verifier.keep(SITE, 'Keep the old keys.', forged);
    const { doc, badge } = await load(post('p', 'carol', 'Keep the old keys.'));
    expect(badge(doc.getElementById('p')!)).toBeNull();
  });

  it('a receipt from another issuer (signed with a key the verifier publishes) gets no badge', async () => {
    await verifier.keep(SITE, 'Keep the old keys.', await verifier.receipt('Keep the old keys.', { issuer: 'https://evil.example' }));
    const { doc, badge } = await load(post('p', 'wiki-helper', 'Keep the old keys.'));
    // An assistant's post: called unverified, never verified.
    expect(badge(doc.getElementById('p')!)).toBe('unverified-ai');
  });

  it('a verifier that is down: no verified badge, no error, and (for 300 posts in two messages) at most one call each', async () => {
    await verifier.approve(SITE, 'Rotate the signing keys every quarter.');
    verifier.answerWith(() => Promise.reject(new TypeError('Failed to fetch')));
    const { doc, badge } = await load(Array.from({ length: 300 }, (_, i) => post(`p${i}`, 'wiki-helper', i ? `post ${i}` : 'Rotate the signing keys every quarter.')).join(''));
    expect(badge(doc.getElementById('p0')!)).toBe('unverified-ai');
    expect(sent.filter(([type]) => type === 'cs-bg:lookup-receipts')).toHaveLength(2);
    expect(verifier.calls.length).toBeLessThanOrEqual(2);
  });
});

describe('a wiki page (the parser output is the post and its body, no author)', () => {
  beforeEach(() => setUp(wiki));

  it('the verified badge goes at the end of the page\'s content, judged on its rendered text', async () => {
    await verifier.approve(SITE, 'Rotate the signing keys every quarter. Tell the on-call team.');
    const { doc, badge } = await load('<h1 id="firstHeading">Runbook</h1><div class="mw-parser-output"><p>Rotate the signing keys every quarter.</p>\n<p>Tell the on-call team.</p>\n<!-- parser report --></div>');
    const content = doc.querySelector('.mw-parser-output')!;
    expect(badge(content)).toBe('verified');
    expect(content.lastElementChild!.localName).toBe('countersign-badge');
  });
});
