// `npm run demo:wiki`: protect a tool we cannot change, next to `npm start`'s verifier. Starts a
// throwaway MediaWiki (Debian's 1.39 on SQLite), puts the gateway in front of it with the routes of
// docs/gateway/mediawiki.json, brokers the bot's MediaWiki session for the agent `wiki-helper` (owned
// by alice, with a new Countersign agent key, printed once), and adds the wiki's site adapter
// (docs/adapters/mediawiki.json) to the organisation's extension policy, so an enrolled browser
// protects the wiki with no root step. Node only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { OrganisationPolicy, SiteAdapter } from '../lib/protocol';
import { buildGateway } from '../server/gateway/app';
import { parseGatewayConfig } from '../server/gateway/config';
import { startMediaWiki } from './mediawiki';
import type { MediaWiki } from './mediawiki';
import { originPattern } from './adapters';

export const WIKI_AGENT = 'wiki-helper';

export interface WikiDemoOptions {
  verifierUrl: string;
  adminToken: string;
  /** Where the gateway listens (127.0.0.1); its origin is http://127.0.0.1:<port>. */
  port: number;
  /** The agent's owner, who approves its edits. */
  owner?: string;
}

export interface WikiDemo {
  wiki: MediaWiki;
  gateway: FastifyInstance;
  origin: string;
  agentKey: string;
  close(): Promise<void>;
}

/** The example files for admins, as shipped. */
export function mediawikiExamples(root = '.'): { gateway: Record<string, unknown>; adapter: SiteAdapter } {
  const gateway = JSON.parse(readFileSync(join(root, 'docs/gateway/mediawiki.json'), 'utf8')) as Record<string, unknown>;
  const [adapter] = JSON.parse(readFileSync(join(root, 'docs/adapters/mediawiki.json'), 'utf8')) as SiteAdapter[];
  return { gateway, adapter: adapter! };
}

async function admin<T>(options: WikiDemoOptions, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(path, options.verifierUrl), {
    method,
    headers: { authorization: `Bearer ${options.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${path}: the verifier answered ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Adds the wiki to the organisation's extension policy, keeping everything else there. */
async function protectWiki(options: WikiDemoOptions, adapter: SiteAdapter): Promise<number> {
  const current = await admin<{ policy: OrganisationPolicy }>(options, 'GET', '/v1/admin/extension-policy');
  const policy = current.policy;
  const site = adapter.match[0]!;
  const next = {
    ...policy,
    protectedSites: [...new Set([...(policy.protectedSites ?? []), site])],
    adapters: [...(policy.adapters ?? []).filter((a) => a.id !== adapter.id), adapter],
  };
  const saved = await admin<{ version: number }>(options, 'PUT', '/v1/admin/extension-policy', next);
  return saved.version;
}

export async function startWikiDemo(options: WikiDemoOptions): Promise<WikiDemo> {
  const origin = `http://127.0.0.1:${options.port}`;
  const owner = options.owner ?? 'alice';
  const examples = mediawikiExamples();
  const wiki = await startMediaWiki({ server: origin });
  try {
    await wiki.createPage('Runbook', 'Rotate the signing key every quarter.');
    const config = parseGatewayConfig(
      { ...examples.gateway, listen: { host: '127.0.0.1', port: options.port }, origin, upstream: wiki.url, verifier: options.verifierUrl },
      { WIKI_HELPER_COOKIE: await wiki.botSessionCookie() },
    );
    await admin(options, 'PUT', `/v1/admin/agents/${WIKI_AGENT}`, { owner, scopes: ['wiki.edit'], sites: [origin] });
    const { key } = await admin<{ key: string }>(options, 'POST', `/v1/admin/agents/${WIKI_AGENT}/keys`);
    await protectWiki(options, { ...examples.adapter, match: [originPattern(origin)], agent: WIKI_AGENT });
    const gateway = await buildGateway({ config });
    await gateway.listen({ host: '127.0.0.1', port: options.port });
    return {
      wiki,
      gateway,
      origin,
      agentKey: key,
      async close() {
        await gateway.close();
        await wiki.stop();
      },
    };
  } catch (error) {
    await wiki.stop();
    throw error;
  }
}

async function main(): Promise<void> {
  const verifierUrl = process.env.VERIFIER_URL ?? 'http://127.0.0.1:8787';
  const tokenFile = join(process.env.COUNTERSIGN_DATA ?? 'data', 'admin-token');
  let adminToken = process.env.COUNTERSIGN_ADMIN_TOKEN;
  try {
    adminToken ??= readFileSync(tokenFile, 'utf8').trim();
  } catch {
    throw new Error(`no admin token: set COUNTERSIGN_ADMIN_TOKEN, or run \`npm start\` first (it keeps one in ${tokenFile})`);
  }
  const ok = await fetch(new URL('/v1/status', verifierUrl), { signal: AbortSignal.timeout(1500) }).then((r) => r.ok, () => false);
  if (!ok) throw new Error(`no verifier answers at ${verifierUrl}: start it with \`npm start\` (or set VERIFIER_URL)`);
  const demo = await startWikiDemo({ verifierUrl, adminToken, port: Number(process.env.GATEWAY_PORT ?? 8090) });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void demo.close().then(() => process.exit(0)));
  const { alice } = demo.wiki.users;
  console.log(`MediaWiki behind the Countersign gateway: ${demo.origin}/index.php/Runbook  (the wiki itself: ${demo.wiki.url}, not for people)
  Sign in as ${alice.name}, password ${alice.password}. The wiki's adapter is in the organisation's extension policy:
  your enrolled browser protects ${demo.origin} on its next status poll (or reopen the options page).
  An assistant's edit: on ${demo.origin}/index.php?title=Runbook&action=edit, in the DevTools console,
    document.querySelector('#wpTextbox1').value = 'Rotate the key only when it leaks.'; document.querySelector('#editform').requestSubmit()
  The edit is held: approve or reject it in the extension's popup.
  The agent ${WIKI_AGENT}'s Countersign key (shown once): ${demo.agentKey}
    curl -s -H 'X-Countersign-Agent-Key: ${demo.agentKey}' '${demo.origin}/api.php?action=query&meta=userinfo&format=json'
  Ctrl-C stops the gateway and the wiki.`);
}

if (process.argv[1]?.endsWith('demo/wiki.ts')) {
  main().catch((error: unknown) => {
    console.error(`demo:wiki failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
