// The background's receipt lookup for readers' badges (cs-bg:lookup-receipts), driven as the router
// calls it: the site asked about is the page the browser says sent the message, never the payload's;
// only a page whose adapter names posts can make this device ask; each receipt found is verified
// before a post is called verified; a verifier that is down leaves posts without a verified badge and
// is not asked again at once. Node only (tests: fakeBrowser, fake IndexedDB, a fake verifier's fetch).
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { deviceKey } from '@/lib/extension/device-key';
import { badgeHandlers } from '@/lib/extension/features/badges';
import { dispatch } from '@/lib/extension/router';
import { contentDigest } from '@/lib/protocol';
import type { SiteAdapter } from '@/lib/protocol';
import { receiptVerifier } from '../../../helpers/receipt-verifier';
import type { ReceiptVerifier } from '../../../helpers/receipt-verifier';

const SITE = 'http://wiki.corp:8090';
const PAGE = `${SITE}/index.php?title=Runbook`;
const TEXT = 'Rotate the signing keys every quarter.';
const wiki: SiteAdapter = { id: 'wiki', match: [`${SITE}/*`], actions: [], assistant: { selectors: ['.ai-draft'] }, posts: { container: '.mw-parser-output', body: '.mw-parser-output' } };
const SELF = { id: fakeBrowser.runtime.id, origin: `chrome-extension://${fakeBrowser.runtime.id}` };
const fromPage = (url = PAGE) => ({ id: SELF.id, url, origin: new URL(url).origin, tab: { id: 7 }, frameId: 0 });
const lookUp = (posts: Array<{ cdg: string; author?: string; marked?: boolean }>, sender = fromPage()) =>
  badgeHandlers['cs-bg:lookup-receipts']({ posts: posts.map((p) => ({ author: '', marked: false, ...p })) }, sender);

let verifier: ReceiptVerifier;
let n = 0;

beforeEach(async () => {
  fakeBrowser.reset();
  // Each test its own verifier: the module keeps key sets and a failing verifier's pause per verifier.
  verifier = await receiptVerifier(`http://verifier-${++n}.test`);
  vi.stubGlobal('fetch', verifier.fetchFn);
  useDatabase(new CountersignDb(`cs-badges-${crypto.randomUUID()}`));
  const key = await deviceKey();
  await db().enrollment.put({ id: 'current', verifierUrl: verifier.issuer, deviceId: 'device-1', userId: 'alice', kid: key.kid, label: 't', enrolledAt: Date.now() });
  await fakeBrowser.storage.local.set({ policy: { protectedSites: [`${SITE}/*`], assistantAccounts: ['wiki-helper'], adapters: JSON.stringify([wiki]) } });
});

afterEach(() => vi.unstubAllGlobals());

describe('cs-bg:lookup-receipts', () => {
  it('asks the enrolled verifier about the sending page\'s origin, device-signed, and answers a verdict a post', async () => {
    const cdg = await verifier.approve(SITE, TEXT, { agent: 'agent:wiki-helper', approver: 'bob' });
    const person = await contentDigest('A person wrote this.');
    const verdicts = await lookUp([{ cdg }, { cdg: person }, { cdg: person, author: 'wiki-helper' }]);
    expect(verdicts.map((v) => v.state)).toEqual(['verified', 'none', 'unverified-ai']);
    expect(verdicts[0]).toMatchObject({ agent: 'agent:wiki-helper', approver: 'bob' });
    expect(verifier.calls).toHaveLength(1);
    expect(verifier.calls[0]!.body).toEqual({ site: SITE, cdgs: [cdg, person] });
    expect(verifier.calls[0]!.authorization).toMatch(/^Countersign-Device ey/);
  });

  it('a receipt the verifier keeps for the same text on another site is not this page\'s: the site is the sender\'s, not the message\'s', async () => {
    const cdg = await verifier.approve('http://other-tool.corp', TEXT);
    expect((await lookUp([{ cdg }])).map((v) => v.state)).toEqual(['none']);
    expect(verifier.calls[0]!.body.site).toBe(SITE);
    // The payload has no room for a site of its own.
    const asked = await dispatch('cs-bg:lookup-receipts', { site: 'http://other-tool.corp', posts: [{ cdg, author: '', marked: false }] }, fromPage(), badgeHandlers['cs-bg:lookup-receipts'], SELF);
    expect(asked).toMatchObject({ ok: false, code: 'payload_invalid' });
  });

  it('a page no adapter names posts on cannot make this device look anything up (not_protected, nothing sent)', async () => {
    const cdg = await contentDigest(TEXT);
    await expect(lookUp([{ cdg }], fromPage('http://intranet.corp/search?q=x'))).rejects.toMatchObject({ code: 'not_protected' });
    expect(verifier.calls).toHaveLength(0);
  });

  it('E-01: only a content script may ask (an extension page is refused before anything runs)', async () => {
    const handler = vi.fn(badgeHandlers['cs-bg:lookup-receipts']);
    const popup = { id: SELF.id, url: `${SELF.origin}/popup.html`, origin: SELF.origin };
    const options = { ...popup, url: `${SELF.origin}/options.html`, tab: { id: 4 } };
    for (const sender of [popup, options]) expect(await dispatch('cs-bg:lookup-receipts', { posts: [] }, sender, handler, SELF)).toMatchObject({ ok: false, code: 'sender_refused' });
    expect(handler).not.toHaveBeenCalled();
  });

  it('a forged receipt in the verifier\'s answer (a man in the middle) gets no badge', async () => {
    const cdg = await contentDigest(TEXT);
    const forged = await verifier.receipt(TEXT, { privateKey: (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])).privateKey });
    await verifier.keep(SITE, TEXT, forged);
    expect((await lookUp([{ cdg }])).map((v) => v.state)).toEqual(['none']);
  });

  it('a verifier that is down: no verified badge, no error; it is not asked again straight away', async () => {
    const cdg = await verifier.approve(SITE, TEXT);
    verifier.answerWith(() => Promise.reject(new TypeError('Failed to fetch')));
    expect((await lookUp([{ cdg }, { cdg, author: 'wiki-helper' }])).map((v) => v.state)).toEqual(['none', 'unverified-ai']);
    expect((await lookUp([{ cdg }])).map((v) => v.state)).toEqual(['none']);
    expect(verifier.calls).toHaveLength(1);
  });

  it('a browser not enrolled asks nothing (it could not sign the request)', async () => {
    await db().enrollment.clear();
    await fakeBrowser.storage.local.set({ policy: { verifierUrl: verifier.issuer, adapters: JSON.stringify([wiki]) } });
    const cdg = await verifier.approve(SITE, TEXT);
    expect((await lookUp([{ cdg }])).map((v) => v.state)).toEqual(['none']);
    expect(verifier.calls).toHaveLength(0);
  });
});
