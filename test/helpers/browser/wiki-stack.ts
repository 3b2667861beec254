// The running system the MediaWiki browser tests need: the e2e stack's verifier, a real MediaWiki
// (test/helpers/mediawiki.ts) behind the gateway (in-process, its config built from
// docs/gateway/mediawiki.json), HAProxy in front of the gateway as the company's authenticating proxy
// for alice, and the admin policy that protects the wiki with docs/adapters/mediawiki.json. Node only
// (browser tests).
//
//   browser → HAProxy (X-Forwarded-User: alice) → gateway → MediaWiki
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AdminPolicy, SiteAdapter } from '@/lib/protocol/index';
import { buildGateway } from '../../../server/gateway/app';
import { parseGatewayConfig } from '../../../server/gateway/config';
import { startAuthProxy } from '../auth-proxy';
import type { AuthProxy } from '../auth-proxy';
import { startMediaWiki } from '../mediawiki';
import type { MediaWiki } from '../mediawiki';
import { freePort } from '../processes';
import { startStack } from './stack';
import type { Stack } from './stack';

/** The assistant on the wiki: the adapter's `agent`, registered on the verifier as alice's. */
export const WIKI_AGENT = 'wiki-helper';
/** Alice's id everywhere Countersign sees her: the proxy's X-Forwarded-User, her enrollment, the tokens' `sub`. */
export const ALICE = 'alice';

export interface WikiStack {
  /** The verifier (and the demo tools, unused here). */
  stack: Stack;
  wiki: MediaWiki;
  gateway: FastifyInstance;
  proxy: AuthProxy;
  /** Alice's way in and the wiki's public origin: her port on the auth proxy. The tokens' `aud`, $wgServer. */
  origin: string;
  /** The admin policy: the verifier, the wiki's origin protected, the MediaWiki adapter for it. */
  policy: AdminPolicy;
  close(): Promise<void>;
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(resolve(path), 'utf8'));

/** docs/adapters/mediawiki.json for this origin, with the assistant's agent id (DESIGN.md: an adapter's optional `agent`). */
export function wikiAdapters(origin: string): SiteAdapter[] {
  return (readJson('docs/adapters/mediawiki.json') as SiteAdapter[]).map((adapter) => ({ ...adapter, match: [`${origin}/*`], agent: WIKI_AGENT }));
}

export async function startWikiStack(): Promise<WikiStack> {
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const stack = await startStack();
    closers.push(() => stack.close());
    const wiki = await startMediaWiki();
    closers.push(() => wiki.stop());
    // The gateway's port first, so that HAProxy can point at it before it listens.
    const gatewayPort = await freePort();
    const proxy = await startAuthProxy(`http://127.0.0.1:${gatewayPort}`, [ALICE]);
    closers.push(() => proxy.stop());
    const origin = proxy.urlFor(ALICE);

    const file = readJson('docs/gateway/mediawiki.json') as Record<string, unknown>;
    const config = parseGatewayConfig(
      { ...file, listen: { host: '127.0.0.1', port: gatewayPort }, origin, upstream: wiki.url, verifier: stack.verifierUrl },
      // The agent's own wiki credential: these tests never send as the agent, so no real session.
      { WIKI_HELPER_COOKIE: 'wiki_BPsession=unused' },
    );
    const gateway = await buildGateway({ config });
    await gateway.listen({ host: config.listen.host, port: gatewayPort });
    closers.push(() => gateway.close());
    // Links and redirects through the proxy, as the wiki's people reach it.
    await wiki.setServer(origin);

    const agent = await stack.admin('PUT', `/v1/admin/agents/${WIKI_AGENT}`, { owner: ALICE, scopes: ['wiki.edit'], sites: [origin] });
    if (!agent.ok) throw new Error(`registering ${WIKI_AGENT}: HTTP ${agent.status} ${await agent.text()}`);

    const policy: AdminPolicy = {
      verifierUrl: stack.verifierUrl,
      protectedSites: [`${origin}/*`],
      adapters: JSON.stringify(wikiAdapters(origin)),
      approvalTtlSeconds: 120,
    };
    return { stack, wiki, gateway, proxy, origin, policy, close };
  } catch (error) {
    await close();
    throw error;
  }
}
