// Receipts looked up on the verifier by the digest of each post's text, for tools that cannot render
// them (DESIGN.md, "The gateway"): `POST /v1/receipts/lookup {site, cdgs}`, device-authenticated. The
// digests a page asks about together are sent at most 100 a call, and the answer is parsed with the
// protocol's schema. A verifier that does not answer, refuses, or answers off the schema finds no
// receipts (fail closed: no verified badge) and is not asked again for a while, so that every open
// page does not keep a failing verifier busy. Background only.
import { RECEIPT_LOOKUP_LIMITS, ReceiptLookupRequest, ReceiptLookupResponse, mintDeviceProof, parseJsonStrict } from '../protocol';
import { deviceKey } from './device-key';
import { currentEnrollment } from './enrollment';

export const RECEIPT_LOOKUP_PATH = '/v1/receipts/lookup';
/** After a failed call, a verifier is not asked for receipts for this long (ms). */
export const LOOKUP_COOLDOWN_MS = 30_000;
/** Calls of one page's lookup under way at once. */
const PARALLEL_CALLS = 4;
const TIMEOUT_MS = 5000;
/** Larger answers are refused: 100 digests × 5 receipts of at most 8 KiB, and room for the JSON around them. */
const MAX_ANSWER_CHARS = 5 * 1024 * 1024;

/** Receipts by digest; a digest the verifier holds none for (or that was not answered) is absent. */
export type FoundReceipts = ReadonlyMap<string, readonly string[]>;

export interface LookupDeps {
  fetchFn?: typeof fetch;
  /**
   * The `Authorization` value for one request to the verifier at `verifier`, or null when this device
   * cannot authenticate there (not enrolled with it): deviceAuthorization.
   */
  authorize(method: string, url: string, verifier: string): Promise<string | null>;
  /** Milliseconds since 1970. */
  now?: () => number;
}

/** The digests one page asked about within one turn of the event loop, sent together. */
interface Gathering {
  cdgs: Set<string>;
  answer: Promise<FoundReceipts>;
}

export class ReceiptLookup {
  private readonly gathering = new Map<string, Gathering>();
  /** When each verifier last failed a call. */
  private readonly failedAt = new Map<string, number>();
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly deps: LookupDeps) {
    this.fetchFn = deps.fetchFn ?? ((...args) => fetch(...args));
    this.now = deps.now ?? Date.now;
  }

  /**
   * The receipts `verifier` holds on `site` (the page's origin) for these digests. Digests asked for the
   * same site in the same turn (the batches of one badge pass) are sent together, 100 a call.
   */
  find(verifier: string, site: string, cdgs: readonly string[]): Promise<FoundReceipts> {
    if (!cdgs.length || this.cooling(verifier)) return Promise.resolve(new Map());
    const key = `${verifier}\u0000${site}`;
    let batch = this.gathering.get(key);
    if (!batch) {
      const gathered = new Set<string>();
      batch = {
        cdgs: gathered,
        answer: new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => {
          this.gathering.delete(key);
          return this.send(verifier, site, [...gathered]);
        }),
      };
      this.gathering.set(key, batch);
    }
    for (const cdg of cdgs) batch.cdgs.add(cdg);
    return batch.answer;
  }

  private cooling(verifier: string): boolean {
    const at = this.failedAt.get(verifier);
    return at !== undefined && this.now() - at < LOOKUP_COOLDOWN_MS;
  }

  private async send(verifier: string, site: string, cdgs: string[]): Promise<FoundReceipts> {
    const found = new Map<string, readonly string[]>();
    const chunks: string[][] = [];
    for (let i = 0; i < cdgs.length; i += RECEIPT_LOOKUP_LIMITS.cdgs) chunks.push(cdgs.slice(i, i + RECEIPT_LOOKUP_LIMITS.cdgs));
    /** False once the verifier failed (now or in another page's call): the rest is not sent, it would fail the same way. */
    const ask = async (chunk: string[]): Promise<boolean> => {
      if (this.cooling(verifier)) return false;
      const answer = await this.call(verifier, site, chunk);
      if (!answer) {
        this.failedAt.set(verifier, this.now());
        return false;
      }
      for (const [cdg, receipts] of answer) found.set(cdg, receipts);
      return true;
    };
    // The first call alone: a verifier that is down costs a page one call, not one per parallel slot.
    const first = chunks.shift();
    if (first && (await ask(first))) {
      const worker = async () => {
        for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) if (!(await ask(chunk))) return;
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_CALLS, chunks.length) }, worker));
    }
    return found;
  }

  /** One call: the receipts of the digests asked (the answer's others are left out), or null when it failed. */
  private async call(verifier: string, site: string, cdgs: string[]): Promise<FoundReceipts | null> {
    const request = ReceiptLookupRequest.safeParse({ site, cdgs });
    if (!request.success) return new Map();
    const url = new URL(RECEIPT_LOOKUP_PATH, verifier).href;
    const authorization = await this.deps.authorize('POST', url, verifier).catch(() => null);
    // Not enrolled with this verifier: nothing to ask it with (and nothing wrong with it).
    if (!authorization) return new Map();
    let text: string;
    try {
      const res = await this.fetchFn(url, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json', authorization },
        body: JSON.stringify(request.data),
        cache: 'no-store',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (!res.ok) return null;
      text = await res.text();
    } catch {
      return null;
    }
    if (text.length > MAX_ANSWER_CHARS) return null;
    const json = parseJsonStrict(text);
    const answer = json.ok ? ReceiptLookupResponse.safeParse(json.value) : null;
    if (!answer?.success) return null;
    const found = new Map<string, readonly string[]>();
    for (const cdg of request.data.cdgs) {
      const receipts = Object.hasOwn(answer.data.receipts, cdg) ? answer.data.receipts[cdg] : undefined;
      if (receipts) found.set(cdg, receipts);
    }
    return found;
  }
}

/**
 * The device proof for one request to `verifier` (DESIGN.md, "Device-authenticated requests"): signed
 * with the device key, as the organisation policy's fetch is, and only when this browser is enrolled
 * with that verifier under that key; otherwise null.
 */
export async function deviceAuthorization(method: string, url: string, verifier: string): Promise<string | null> {
  const enrollment = await currentEnrollment();
  if (!enrollment || new URL(enrollment.verifierUrl).origin !== new URL(verifier).origin) return null;
  const key = await deviceKey();
  if (key.kid !== enrollment.kid) return null;
  return mintDeviceProof({ privateKey: key.privateKey, kid: key.kid, method, url });
}
