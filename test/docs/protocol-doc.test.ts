// docs/protocol.md stays true: every error code, verifier route and managed-policy key appears in
// it, and its marked examples are recomputed with the project's own code. Node only (tests).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  ERROR_STATUS,
  TokenRejected,
  actionDigest,
  canonicalAction,
  canonicalJson,
  contentDigest,
  hashEvent,
  importEs256PublicJwk,
  jwkThumbprint,
  normaliseContent,
  verifyApprovalToken,
  verifyChain,
} from '../../lib/protocol';
import type { ActionRequest, Es256PublicJwk, LogEvent } from '../../lib/protocol';
import { startVerifier } from '../helpers/verifier';
import type { TestVerifier } from '../helpers/verifier';

const ROOT = new URL('../../', import.meta.url);
const doc = readFileSync(new URL('docs/protocol.md', ROOT), 'utf8');

/** The JSON of every fenced block that follows `<!-- example: <kind> -->`. */
function examples<T>(kind: string): T[] {
  const re = new RegExp(`<!-- example: ${kind} -->\\s*\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``, 'g');
  return [...doc.matchAll(re)].map((m) => JSON.parse(m[1]!) as T);
}

/** `METHOD /path` in backticks, optionally followed by a query: the form the route table uses. */
function mentionsRoute(text: string, method: string, path: string): boolean {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\`${method} ${escaped}[\`?]`).test(text);
}

/** Routes from Fastify's route tree (`printRoutes({ commonPrefix: false })`): each line a node, indented 4 per level. */
function routesOf(tree: string): Array<{ method: string; path: string }> {
  const stack: string[] = [];
  const routes: Array<{ method: string; path: string }> = [];
  for (const line of tree.split('\n')) {
    const m = /^(.*?)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = [...m[1]!].length / 4;
    const path = (depth === 0 ? '' : stack[depth - 1]!) + m[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) routes.push({ method, path });
  }
  return routes;
}

describe('docs/protocol.md', () => {
  let verifier: TestVerifier;
  let routes: Array<{ method: string; path: string }>;

  beforeAll(async () => {
    verifier = await startVerifier('sqlite');
    // HEAD routes are Fastify's own, added for every GET.
    routes = routesOf(verifier.app.printRoutes({ commonPrefix: false })).filter((r) => r.method !== 'HEAD');
  });
  afterAll(() => verifier?.close());

  it('reads the verifier\'s routes from a built app (the parse is not silently empty)', () => {
    expect(routes.length).toBeGreaterThanOrEqual(19);
    for (const r of routes) expect(verifier.app.hasRoute({ method: r.method as 'GET', url: r.path }), `${r.method} ${r.path}`).toBe(true);
  });

  it('names every route the verifier registers as `METHOD /path`', () => {
    const missing = routes.filter((r) => !mentionsRoute(doc, r.method, r.path)).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  it('lists no route in its route table that the verifier does not register', () => {
    const table = /<!-- routes:start -->([\s\S]*?)<!-- routes:end -->/.exec(doc)?.[1];
    expect(table).toBeDefined();
    const listed = [...table!.matchAll(/^\| `([A-Z]+) (\/[^`?]*)[`?]/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(listed.sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('names every error code as `code`, with its status in the error table', () => {
    for (const code of ERROR_CODES) {
      const row = new RegExp(`^\\| \`${code}\` \\| (\\d{3}) \\|`, 'm').exec(doc);
      expect(row, code).not.toBeNull();
      expect(Number(row![1]), code).toBe(ERROR_STATUS[code]);
    }
  });

  it('names every policy key of public/managed_schema.json', () => {
    const schema = JSON.parse(readFileSync(new URL('public/managed_schema.json', ROOT), 'utf8')) as { properties: Record<string, unknown> };
    const keys = Object.keys(schema.properties);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(doc, key).toMatch(new RegExp(`^\\| \`${key}\` \\|`, 'm'));
  });

  it('names the published vectors', () => {
    for (const file of ['test/vectors/action-digest.json', 'ecdsa_secp256r1_sha256_p1363_test.json', 'json_web_signature_test.json', 'json_web_key_test.json']) {
      expect(doc).toContain(file);
    }
  });

  describe('examples', () => {
    const digests = examples<{ request: ActionRequest; canonical: string; digest: string }>('digest');

    it('has a JSON-body and a repeated-field form digest example', () => {
      expect(digests.some((d) => d.request.contentType === 'application/json')).toBe(true);
      expect(
        digests.some((d) => {
          const names = [...new URLSearchParams(d.request.body ?? '').keys()];
          return d.request.contentType === 'application/x-www-form-urlencoded' && new Set(names).size < names.length;
        }),
      ).toBe(true);
    });

    it.each(digests.map((d, i) => [i, d] as const))('digest example %i: canonical JSON and digest recomputed', async (_i, example) => {
      expect(canonicalJson(await canonicalAction(example.request))).toBe(example.canonical);
      expect(await actionDigest(example.request)).toBe(example.digest);
    });

    const tokens = examples<{
      publicJwk: Es256PublicJwk;
      now: number;
      scope: string;
      request: ActionRequest;
      token: string;
      header: Record<string, unknown>;
      claims: Record<string, unknown>;
    }>('approval-token');

    it('has one approval-token example', () => {
      expect(tokens).toHaveLength(1);
    });

    it.each(tokens.map((t, i) => [i, t] as const))('approval-token example %i verifies against its public JWK, header and claims as shown', async (_i, example) => {
      const [h, p] = example.token.split('.') as [string, string];
      expect(JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))).toEqual(example.header);
      expect(JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))).toEqual(example.claims);
      expect(example.header.kid).toBe(await jwkThumbprint(example.publicJwk));

      const publicKey = await importEs256PublicJwk(example.publicJwk);
      const ctx = (request: ActionRequest) => ({
        lookupKey: (kid: string) =>
          kid === example.header.kid ? { kid, deviceId: example.claims.iss as string, userId: example.claims.sub as string, revoked: false, publicKey } : undefined,
        request,
        scope: example.scope,
        now: example.now,
        authorize: () => undefined,
        kills: () => [],
        // The example's scope needs no presence and its token carries no `wa`.
        presence: () => undefined,
      });
      const verified = await verifyApprovalToken(example.token, ctx(example.request));
      expect(verified.claims).toEqual(example.claims);
      expect(verified.digest).toBe(await actionDigest(example.request));

      // The same token is no approval for another body.
      const other = { ...example.request, body: example.request.body!.replace('group grant', 'admin grant') };
      await expect(verifyApprovalToken(example.token, ctx(other))).rejects.toMatchObject({ code: 'action_mismatch' });
      await expect(verifyApprovalToken(example.token, ctx(other))).rejects.toBeInstanceOf(TokenRejected);
    });

    const cdgs = examples<{ text: string; normalised: string; cdg: string }>('cdg');
    it.each(cdgs.map((c, i) => [i, c] as const))('cdg example %i: normalised text and digest recomputed', async (_i, example) => {
      expect(normaliseContent(example.text)).toBe(example.normalised);
      expect(await contentDigest(example.text)).toBe(example.cdg);
    });

    const chains = examples<{ events: LogEvent[] }>('log-chain');
    it.each(chains.map((c, i) => [i, c] as const))('log-chain example %i: hashes recomputed and the chain verifies', async (_i, example) => {
      for (const event of example.events) expect(await hashEvent(event)).toBe(event.hash);
      const head = await verifyChain(example.events[0]!.deviceId, example.events);
      expect(head?.hash).toBe(example.events.at(-1)!.hash);
    });

    it('has every example kind the document promises', () => {
      expect(digests.length).toBeGreaterThanOrEqual(2);
      expect(cdgs.length).toBeGreaterThanOrEqual(1);
      expect(chains.length).toBeGreaterThanOrEqual(1);
    });
  });
});
