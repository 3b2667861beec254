// Readers' provenance verdicts: each post's receipt checked against the verifier's JWKS (cached per
// issuer, refreshed on an unknown kid), the policy's issuer, and the post's rendered text — a receipt
// the page renders, or one the verifier kept for the digest of that text (looked up for tools that
// cannot render receipts). Background only.
import { createRemoteJWKSet, customFetch } from 'jose';
import type { RemoteJWKSet } from 'jose';
import { importEs256Jwks, policyBotName, verifyReceipt } from '../protocol';
import type { CountersignError, ReceiptClaims } from '../protocol';
import type { Verdict } from '../messaging/views';

export interface PostInput {
  receipt: string | null;
  author: string;
  content: string;
  /** The post carries an assistant marker in its markup. */
  marked: boolean;
}

/** Receipt keys by `kid`: the verifier's JWKS (JwksCache), or none. */
export interface ReceiptKeys {
  lookup(kid: string): Promise<CryptoKey | undefined>;
}

export interface VerdictContext {
  issuer: string | null;
  assistantAccounts: string[];
  keys: ReceiptKeys;
}

/** An unknown kid fetches the key set again at most this often, after a success or a failure alike. */
const REFETCH_MS = 60_000;
/** The fetch had no timeout of its own before jose and has none now: the largest a timer takes. */
const NO_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * One verifier's receipt keys: jose's remote key set (fetched once, again only for an unknown kid, at
 * most once a minute; lookups during a fetch wait for it), and on top of it the key-set check jose does
 * not make: a set that mixes key kinds, repeats a kid or has an invalid member is refused whole
 * (SECURITY-CASES J-17), and the keys held before stay.
 */
export class JwksCache {
  private readonly remote: RemoteJWKSet;
  /** jose's cooldown counts from a success only; after a failure a minute passes too. */
  private failedAt: number | null = null;

  constructor(
    readonly issuer: string,
    fetchFn: typeof fetch = (...args) => fetch(...args),
  ) {
    this.remote = createRemoteJWKSet(new URL('/.well-known/jwks.json', issuer), {
      cooldownDuration: REFETCH_MS,
      // Kept until an unknown kid asks for a fresh set, as before.
      cacheMaxAge: Infinity,
      timeoutDuration: NO_TIMEOUT_MS,
      // Redirects are followed, as before jose (which would refuse them).
      [customFetch]: async (url, { headers, signal }) => {
        if (this.failedAt !== null && Date.now() - this.failedAt <= REFETCH_MS) throw new Error('the last JWKS fetch failed less than a minute ago');
        try {
          const res = await fetchFn(url, { headers, signal });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          const body: unknown = await res.json();
          await importEs256Jwks(body);
          this.failedAt = null;
          return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
        } catch (error) {
          this.failedAt = Date.now();
          throw error;
        }
      },
    });
  }

  async lookup(kid: string): Promise<CryptoKey | undefined> {
    try {
      return await this.remote({ alg: 'ES256', kid });
    } catch {
      // Unreachable, a refused set, or no such key: the receipt stays unverified.
      return undefined;
    }
  }
}

/** A key cache per issuer: receipts are checked against the keys of the verifier in use, whichever it is now. */
export class IssuerKeys {
  private readonly caches = new Map<string, JwksCache>();

  constructor(private readonly fetchFn?: typeof fetch) {}

  of(issuer: string): JwksCache {
    let cache = this.caches.get(issuer);
    if (!cache) {
      cache = new JwksCache(issuer, this.fetchFn);
      this.caches.set(issuer, cache);
    }
    return cache;
  }
}

const REASONS: Record<string, string> = {
  key_unknown: 'not signed by the verifier this policy trusts',
  signature_invalid: 'the signature does not verify',
  action_mismatch: 'the post changed since it was approved',
  token_malformed: 'the receipt is malformed',
  typ_invalid: 'not a provenance receipt',
  alg_not_allowed: 'not a provenance receipt',
  header_not_allowed: 'not a provenance receipt',
  token_missing: 'no receipt',
};

/**
 * Who approved, as a badge says it: a policy bot as "policy <name>" (never mistaken for a person), a
 * quorum as every person ("alice and bob"), else the one approver.
 */
export function approverText(claims: Pick<ReceiptClaims, 'apv' | 'apvs'>): string {
  const names = (claims.apvs?.length ? claims.apvs : [claims.apv]).map((id) => {
    const bot = policyBotName(id);
    return bot ? `policy ${bot}` : id;
  });
  return names.length <= 2 ? names.join(' and ') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

function verified(claims: ReceiptClaims, first: string[] = []): Verdict {
  return {
    state: 'verified',
    agent: claims.sub,
    approver: approverText(claims),
    time: claims.iat,
    traceId: claims.trc,
    checks: [...first, 'signature by the verifier\'s key', `issuer ${claims.iss}`, 'text unchanged since approval', `policy ${claims.pol}`],
  };
}

export async function verdictFor(post: PostInput, ctx: VerdictContext): Promise<Verdict> {
  const assistant = post.marked || ctx.assistantAccounts.includes(post.author);
  if (!post.receipt) {
    return assistant ? { state: 'unverified-ai', checks: ['assistant account or marker', 'no receipt'], reason: 'an assistant wrote it and no approval receipt is attached' } : { state: 'none', checks: [] };
  }
  if (!ctx.issuer) return { state: 'invalid', checks: ['no verifier configured'], reason: 'no verifier is configured to check receipts against' };
  try {
    const { claims } = await verifyReceipt(post.receipt, { lookupKey: (kid) => ctx.keys.lookup(kid), issuer: ctx.issuer, content: post.content });
    return verified(claims);
  } catch (error) {
    const code = (error as CountersignError).code ?? 'token_malformed';
    return { state: 'invalid', checks: ['receipt present', `failed: ${code}`], reason: REASONS[code] ?? 'the receipt does not verify' };
  }
}

/**
 * Verdicts cached per (receipt, text, author): a page that re-renders or scrolls back costs no
 * second signature check. Bounded; the oldest entries go first. Posts without a receipt are cheap
 * and not cached.
 */
export class VerdictCache {
  private readonly entries = new Map<string, Verdict>();

  constructor(private readonly limit = 5000) {}

  async get(post: PostInput, ctx: VerdictContext): Promise<Verdict> {
    if (!post.receipt) return verdictFor(post, ctx);
    const key = `${ctx.issuer}\u0000${post.receipt}\u0000${post.author}\u0000${post.marked}\u0000${post.content}`;
    const hit = this.entries.get(key);
    if (hit) return hit;
    const verdict = await verdictFor(post, ctx);
    this.entries.set(key, verdict);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
    return verdict;
  }
}

/** A post with no receipt in the page, by its text's digest (computed in the page with contentDigest). */
export interface LookedUpPost {
  cdg: string;
  author: string;
  marked: boolean;
}

/**
 * Verdicts for posts whose receipts the verifier kept for their text's digest. Each receipt is checked
 * as a rendered one is (verifyReceipt: the verifier's key, the policy's issuer) and must bind the
 * post's digest; the first that holds makes the post verified. One that fails is no "invalid" badge:
 * the page did not attach it, so it says nothing about the post. Without one, an assistant's post is
 * unverified AI and a person's gets no badge. A receipt that held is kept per (issuer, digest,
 * receipt), bounded: a page that reloads costs no second signature check. One that failed is checked
 * again next time, since its key may only have been out of reach.
 */
export class LookedUpVerdicts {
  private readonly checked = new Map<string, Promise<ReceiptClaims | null>>();

  constructor(private readonly limit = 5000) {}

  async get(post: LookedUpPost, receipts: readonly string[], ctx: VerdictContext): Promise<Verdict> {
    if (ctx.issuer) {
      for (const receipt of receipts) {
        const claims = await this.check(receipt, post.cdg, ctx.issuer, ctx.keys);
        if (claims) return verified(claims, ['receipt kept by the verifier for this text']);
      }
    }
    const assistant = post.marked || ctx.assistantAccounts.includes(post.author);
    return assistant
      ? { state: 'unverified-ai', checks: ['assistant account or marker', 'no receipt for this text'], reason: 'an assistant wrote it and the verifier holds no approval receipt for this text' }
      : { state: 'none', checks: [] };
  }

  private check(receipt: string, cdg: string, issuer: string, keys: ReceiptKeys): Promise<ReceiptClaims | null> {
    const key = `${issuer}\u0000${cdg}\u0000${receipt}`;
    let hit = this.checked.get(key);
    if (!hit) {
      hit = verifyReceipt(receipt, { lookupKey: (kid) => keys.lookup(kid), issuer }).then(
        // The digest the page computed from the post's text, compared as verifyReceipt compares the text's.
        ({ claims }) => (claims.cdg !== undefined && claims.cdg === cdg ? claims : null),
        () => null,
      );
      void hit.then((claims) => {
        if (!claims && this.checked.get(key) === hit) this.checked.delete(key);
      });
      this.checked.set(key, hit);
      if (this.checked.size > this.limit) this.checked.delete(this.checked.keys().next().value!);
    }
    return hit;
  }
}
