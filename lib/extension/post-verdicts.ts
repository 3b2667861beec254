// Readers' provenance verdicts: each post's receipt checked against the verifier's JWKS (cached,
// refreshed on an unknown kid), the policy's issuer, and the post's rendered text. Background only.
import { importEs256Jwks, verifyReceipt } from '../protocol';
import type { CountersignError } from '../protocol';

export type BadgeState = 'verified' | 'unverified-ai' | 'invalid' | 'none';

export interface PostInput {
  receipt: string | null;
  author: string;
  content: string;
  /** The post carries an assistant marker in its markup. */
  marked: boolean;
}

export interface Verdict {
  state: BadgeState;
  agent?: string;
  approver?: string;
  /** Seconds since 1970: when the verifier allowed it. */
  time?: number;
  traceId?: string;
  /** What was checked, in order, for the details panel. */
  checks: string[];
  reason?: string;
}

export interface VerdictContext {
  issuer: string | null;
  assistantAccounts: string[];
  keys: JwksCache;
}

/** The verifier's receipt keys, fetched once and again only for an unknown kid (at most once a minute). */
export class JwksCache {
  private keys = new Map<string, CryptoKey>();
  private fetchedAt: number | null = null;
  /** The refresh under way: lookups that arrive meanwhile wait for it instead of missing the key. */
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly url: () => string | null,
    private readonly fetchFn: typeof fetch = (...args) => fetch(...args),
    private readonly now: () => number = Date.now,
  ) {}

  async lookup(kid: string): Promise<CryptoKey | undefined> {
    if (this.refreshing) await this.refreshing;
    if (!this.keys.has(kid) && (this.fetchedAt === null || this.now() - this.fetchedAt > 60_000)) {
      this.refreshing = this.refresh().finally(() => (this.refreshing = null));
      await this.refreshing;
    }
    return this.keys.get(kid);
  }

  private async refresh(): Promise<void> {
    this.fetchedAt = this.now();
    const base = this.url();
    if (!base) return;
    try {
      const res = await this.fetchFn(new URL('/.well-known/jwks.json', base));
      if (res.ok) this.keys = await importEs256Jwks(await res.json());
    } catch {
      // Unreachable or a bad key set: keep what we had; unknown receipts stay unverified.
    }
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

export async function verdictFor(post: PostInput, ctx: VerdictContext): Promise<Verdict> {
  const assistant = post.marked || ctx.assistantAccounts.includes(post.author);
  if (!post.receipt) {
    return assistant ? { state: 'unverified-ai', checks: ['assistant account or marker', 'no receipt'], reason: 'an assistant wrote it and no approval receipt is attached' } : { state: 'none', checks: [] };
  }
  if (!ctx.issuer) return { state: 'invalid', checks: ['no verifier configured'], reason: 'no verifier is configured to check receipts against' };
  try {
    const { claims } = await verifyReceipt(post.receipt, { lookupKey: (kid) => ctx.keys.lookup(kid), issuer: ctx.issuer, content: post.content });
    return {
      state: 'verified',
      agent: claims.sub,
      approver: claims.apv,
      time: claims.iat,
      traceId: claims.trc,
      checks: ['signature by the verifier\'s key', `issuer ${claims.iss}`, 'text unchanged since approval', `policy ${claims.pol}`],
    };
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
