// A verifier as readers' badges see it: receipt keys at /.well-known/jwks.json, and the receipts it
// keeps by site and text digest answered at POST /v1/receipts/lookup (newest first), each call
// recorded. Its fetch can be taken down, or made to answer anything. Tests only.
import { vi } from 'vitest';
import { contentDigest, exportEs256PublicJwk, generateEs256KeyPair, mintReceipt, newTraceId } from '@/lib/protocol';

export const ISSUER = 'http://verifier.test';

export interface LookupCall {
  url: string;
  authorization: string | null;
  body: { site: string; cdgs: string[] };
}

export async function receiptVerifier(issuer = ISSUER) {
  const pair = await generateEs256KeyPair();
  const jwk = { ...(await exportEs256PublicJwk(pair.publicKey)), kid: 'rk-1' };
  /** site → cdg → receipts, newest first. */
  const kept = new Map<string, Map<string, string[]>>();
  const calls: LookupCall[] = [];
  const state: { answer: ((call: LookupCall) => Response | Promise<Response>) | null } = { answer: null };

  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetchFn = vi.fn(async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    if (url === `${issuer}/.well-known/jwks.json`) return json({ keys: [jwk] });
    if (url === `${issuer}/v1/receipts/lookup` && init?.method === 'POST') {
      const headers = new Headers(init.headers);
      const call: LookupCall = { url, authorization: headers.get('authorization'), body: JSON.parse(String(init.body)) as LookupCall['body'] };
      calls.push(call);
      if (state.answer) return state.answer(call);
      const site = kept.get(call.body.site);
      const receipts: Record<string, string[]> = {};
      for (const cdg of call.body.cdgs) {
        const found = site?.get(cdg);
        if (found?.length) receipts[cdg] = found.slice(0, 5);
      }
      return json({ receipts });
    }
    return json({ error: { code: 'payload_invalid', message: 'no such route', traceId: '0'.repeat(32) } }, 404);
  });

  /** A receipt for `text`, by default as this verifier issues it; `over` forges one part. */
  async function receipt(text: string, over: { issuer?: string; privateKey?: CryptoKey; agent?: string; approver?: string; content?: string | null } = {}) {
    const { receipt: jws } = await mintReceipt({
      privateKey: over.privateKey ?? pair.privateKey,
      kid: 'rk-1',
      issuer: over.issuer ?? issuer,
      agent: over.agent ?? 'agent:wiki-helper',
      approver: over.approver ?? 'alice',
      traceId: newTraceId(),
      digest: 'A'.repeat(43),
      policyVersion: 'v1',
      content: over.content === undefined ? text : over.content,
    });
    return jws;
  }

  /** Keeps `jws` on `site` under the digest of `text` (what the verifier would find for that post). */
  async function keep(site: string, text: string, jws: string): Promise<string> {
    const cdg = await contentDigest(text);
    const bySite = kept.get(site) ?? new Map<string, string[]>();
    kept.set(site, bySite);
    bySite.set(cdg, [jws, ...(bySite.get(cdg) ?? [])]);
    return cdg;
  }

  return {
    issuer,
    pair,
    fetchFn,
    calls,
    receipt,
    keep,
    /** Approves `text` on `site`: a genuine receipt, kept under its digest. */
    approve: async (site: string, text: string, over: { agent?: string; approver?: string } = {}) => keep(site, text, await receipt(text, over)),
    /** Answers every lookup with this from now on (null: as the kept receipts say). */
    answerWith(answer: ((call: LookupCall) => Response | Promise<Response>) | null) {
      state.answer = answer;
    },
    json,
  };
}

export type ReceiptVerifier = Awaited<ReturnType<typeof receiptVerifier>>;
