// Fuzzing the gateway (server/gateway) in front of a recording tool, with MediaWiki's routes as shipped
// (docs/gateway/mediawiki.json) and a real verifier: FUZZ_RUNS hostile requests in all (100,000 under
// `npm run test:faults`), written byte for byte on a socket so that nothing normalises them (see
// gatewayCaseArb in test/helpers/fuzz.ts), from the trusted proxy's address and another, as a person,
// nobody, or with an agent key (live, revoked, forged), never with a valid approval (sometimes a
// forged or wrong-scope one).
//
// The oracle is not the gateway's matcher: every request the tool received is read the way PHP and
// MediaWiki would read it (test/helpers/php-reading.ts), and it is UNAUTHORIZED when MediaWiki would
// read it as a rights change (Special:UserRights and its aliases on a POST, api.php action=userrights),
// when it is an agent's request that changes anything (no approval is ever valid here), when it still
// carries an approval or agent-key header under a spelling PHP reads as one, or when it carries an
// identity header (X-Forwarded-User, Countersign-Agent, Countersign-Receipt) the gateway did not set.
// Every answer is checked too: never a 5xx; a refusal of the gateway's own in DESIGN.md's shape. Each
// family of cases runs to the end and then reports every kind of finding with its shortest example.
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS, ErrorBody } from '../../lib/protocol';
import type { GatewayConfigFile } from '../../server/gateway/config';
import { FUZZ_RUNS, gatewayCaseArb, rawRequest, serialiseGatewayCase } from '../helpers/fuzz';
import type { GatewayCase, GatewayFocus, GatewayPools, RawReply } from '../helpers/fuzz';
import { AGENT, BOT_COOKIE, startGatewayWorld } from '../helpers/gateway';
import type { GatewayWorld, Seen } from '../helpers/gateway';
import { PHP_ARRAY, isUtf8, readAsMediaWiki } from '../helpers/php-reading';
import type { MediaWikiReading, PhpVars } from '../helpers/php-reading';
import { recordAttacks } from '../helpers/tally';

const MEDIAWIKI = JSON.parse(readFileSync(new URL('../../docs/gateway/mediawiki.json', import.meta.url), 'utf8')) as GatewayConfigFile;
const TRUSTED = '127.0.0.1';
const UNTRUSTED = '127.0.0.2';

let w: GatewayWorld;
let pools: GatewayPools;
/** What the tool received, by the case tag each request carries (X-Fuzz-Case); requests without one apart. */
const received = new Map<string, Seen[]>();
const untagged: Seen[] = [];

function tool(seen: Seen, res: ServerResponse): void {
  const tag = seen.headers['x-fuzz-case'];
  if (typeof tag === 'string') received.set(tag, [...(received.get(tag) ?? []), seen]);
  else untagged.push(seen);
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'set-cookie': 'wikidb_session=renewed-secret; HttpOnly', 'x-tool': 'yes' });
  res.end(`${seen.method} ${seen.url} ${seen.body.length}`);
}

beforeAll(async () => {
  w = await startGatewayWorld({ config: { routes: MEDIAWIKI.routes, identity: MEDIAWIKI.identity, bodyLimit: MEDIAWIKI.bodyLimit }, respond: tool });
  const live = await w.agentKey();
  const revoked = await w.agentKey();
  const gone = await w.v.admin('DELETE', `/v1/admin/agents/${AGENT}/keys/${revoked.keyId}`);
  if (gone.statusCode !== 200) throw new Error(`revoking the agent key: ${gone.statusCode}`);
  const rights = { url: '/index.php?title=Special:UserRights', body: 'user=Bob&wpGroup-sysop=1&saveusergroups=Save' };
  // Genuine signatures that no request here can use: a scope no route has, or a request the fuzzer never sends.
  const tokens = [
    await w.approve(rights, { agent: 'user:alice', scope: 'wiki.nothing' }),
    await w.approve(rights, { scope: 'wiki.nothing' }),
    await w.approve({ url: '/api.php?fuzz-never-sent=1', body: 'action=userrights&user=Bob&add=sysop' }, { agent: 'user:alice', scope: 'wiki.rights' }),
    await w.approve({ url: '/index.php?fuzz-never-sent=1&title=Special:UserRights', body: rights.body }, { agent: 'user:alice', scope: 'wiki.rights' }),
    await w.approve({ url: '/api.php?fuzz-never-sent=1', body: 'action=edit&title=Sandbox&text=x' }, { scope: 'wiki.edit' }),
  ];
  const flipped = tokens.map((t) => t.slice(0, -2) + (t.endsWith('A') ? 'B' : 'A') + t.slice(-1));
  pools = {
    agentKey: live.key,
    revokedKey: revoked.key,
    tokens: [...tokens, ...flipped, 'eyJhbGciOiJub25lIn0.eyJzY3AiOiJ3aWtpLnJpZ2h0cyJ9.', 'x.y.z', `${tokens[0]}, ${tokens[1]}`],
  };
}, 60_000);
afterAll(() => w?.close());

// ---------- the oracle ----------

interface Context {
  /** The person the trusted proxy named, the only identity the tool may see (null: none). */
  legitUser: string | null;
  /** The request carried the live agent key (under any spelling). */
  agent: boolean;
}

interface Violation {
  cls: string;
  detail: string;
}

const shown = (s: string) => JSON.stringify(s);

function pathShape(uri: string): string {
  const path = uri.split('?', 1)[0]!;
  if (/^\/index\.php\/./.test(path)) return '/index.php/<title>';
  return path.length > 40 ? `${path.slice(0, 40)}…` : path;
}

function bodyKind(seen: Seen): string {
  const type = String(seen.headers['content-type'] ?? '').split(/[;, ]/, 1)[0]!.toLowerCase();
  return type === '' ? 'no body type' : type;
}

/** Whether a PHP value read from the request was not UTF-8 (MediaWiki then reads it as windows-1252, when the name is in the query). */
function notUtf8(vars: PhpVars, name: string): boolean {
  const v = vars.get(name);
  return typeof v === 'string' && !isUtf8(v);
}

function rightsClass(seen: Seen, r: MediaWikiReading): string {
  const php = r.php;
  if (php.script === 'api.php') {
    const from = php.post.has('action') ? 'body' : 'query';
    return `api.php action=userrights, action from the ${from} (${from === 'body' ? bodyKind(seen) : 'query'})${notUtf8(from === 'body' ? php.post : php.get, 'action') ? ', not UTF-8' : ''}`;
  }
  const from = r.title!.from;
  const source = from === 'post' ? php.post : from === 'get' ? php.get : new Map();
  return `index.php ${r.title!.parsed?.dbkey.split('/', 1)[0]}, title from the ${from === 'post' ? `body (${bodyKind(seen)})` : from}${from !== 'path' && notUtf8(source, 'title') ? ', not UTF-8' : ''}, path ${pathShape(php.requestUri)}`;
}

/** What PHP made of it, for a report. */
function phpView(r: MediaWikiReading): string {
  const vars = (m: PhpVars) => JSON.stringify(Object.fromEntries([...m].filter(([k]) => ['title', 'action', 'curid'].includes(k)).map(([k, v]) => [k, v === PHP_ARRAY ? '(array)' : v])));
  const server = Object.fromEntries([...r.php.server].filter(([k]) => /COUNTERSIGN|FORWARDED_USER|COOKIE|AUTHORIZATION/.test(k)));
  return `PHP runs ${r.php.script ?? '(404)'} (PATH_INFO ${shown(r.php.pathInfo)}), $_GET ${vars(r.php.get)}, $_POST ${vars(r.php.post)}, $_FILES ${JSON.stringify(r.php.files)}, ${JSON.stringify(server)}; MediaWiki: title ${JSON.stringify(r.title?.text ?? null)} → ${JSON.stringify(r.title?.parsed ?? null)}, api action ${JSON.stringify(r.apiAction)}`;
}

/** PHP variable names (HTTP_*) of the headers only the gateway may set toward the tool, and what it may set them to. */
function judge(seen: Seen, ctx: Context): Violation[] {
  const r = readAsMediaWiki(seen);
  const out: Violation[] = [];
  if (r.rightsChange) out.push({ cls: `MediaWiki reads a rights change: ${rightsClass(seen, r)}`, detail: `${r.rightsChange}. ${phpView(r)}` });
  if (ctx.agent && r.stateChange) out.push({ cls: `an agent's unapproved write: ${seen.method} ${r.php.script ?? '(404)'}${/rollback/.test(r.stateChange) ? ' action=rollback' : ''}, path ${pathShape(seen.url)}`, detail: `${r.stateChange}. ${phpView(r)}` });
  const s = r.php.server;
  const header = (name: string) => seen.rawHeaders.filter((_, i) => i % 2 === 0).find((n) => `HTTP_${n.toUpperCase().replace(/[-.\s]/g, '_')}` === name) ?? name;
  for (const name of ['HTTP_COUNTERSIGN_APPROVAL', 'HTTP_X_COUNTERSIGN_AGENT_KEY', 'HTTP_COUNTERSIGN_RECEIPT']) {
    if (s.has(name)) out.push({ cls: `the tool gets ${name} (sent as ${shown(header(name))})`, detail: `${name}=${shown(s.get(name)!)}. ${phpView(r)}` });
  }
  // Spellings a tool other than PHP might fold the same way: no approval or agent key may reach it at all.
  for (let i = 0; i < seen.rawHeaders.length; i += 2) {
    const folded = seen.rawHeaders[i]!.toLowerCase().replace(/[^a-z0-9]/g, '');
    if ((folded === 'countersignapproval' || folded === 'xcountersignagentkey') && !s.has(`HTTP_${seen.rawHeaders[i]!.toUpperCase().replace(/[-.\s]/g, '_')}`)) {
      out.push({ cls: `the tool gets the header ${shown(seen.rawHeaders[i]!)}`, detail: phpView(r) });
    }
  }
  const user = s.get('HTTP_X_FORWARDED_USER');
  if (user !== undefined && user !== ctx.legitUser) out.push({ cls: `the tool gets an identity the gateway did not set (HTTP_X_FORWARDED_USER, sent as ${shown(header('HTTP_X_FORWARDED_USER'))}${ctx.legitUser ? ', from the trusted proxy' : ''})`, detail: `HTTP_X_FORWARDED_USER=${shown(user)}, the proxy named ${shown(ctx.legitUser ?? 'nobody')}. ${phpView(r)}` });
  const agent = s.get('HTTP_COUNTERSIGN_AGENT');
  if (agent !== undefined && !(ctx.agent && agent === AGENT)) out.push({ cls: `the tool gets an agent identity the gateway did not set (sent as ${shown(header('HTTP_COUNTERSIGN_AGENT'))})`, detail: `HTTP_COUNTERSIGN_AGENT=${shown(agent)}. ${phpView(r)}` });
  if (ctx.agent && agent === AGENT) {
    if (s.get('HTTP_COOKIE') !== BOT_COOKIE) out.push({ cls: "an agent's request carries a cookie besides the brokered one", detail: `HTTP_COOKIE=${shown(s.get('HTTP_COOKIE') ?? '')}` });
    if (s.has('HTTP_AUTHORIZATION')) out.push({ cls: "an agent's request carries an Authorization header", detail: `HTTP_AUTHORIZATION=${shown(s.get('HTTP_AUTHORIZATION')!)}` });
  }
  return out;
}

// ---------- the runner ----------

type Kind = 'unauthorized' | 'crash' | 'shape';

class Findings {
  readonly byClass = new Map<string, { kind: Kind; count: number; example: string; size: number }>();
  unauthorized = 0;

  add(kind: Kind, cls: string, size: number, example: () => string): void {
    if (kind === 'unauthorized') this.unauthorized++;
    const key = `${kind}: ${cls}`;
    const seen = this.byClass.get(key);
    if (seen) {
      seen.count++;
      if (size < seen.size) Object.assign(seen, { example: shorten(example()), size });
    } else this.byClass.set(key, { kind, count: 1, example: shorten(example()), size });
  }

  report(): string[] {
    return [...this.byClass].sort((a, b) => b[1].count - a[1].count).map(([key, f]) => `${key} — ${f.count}×, e.g.\n${f.example}`);
  }
}

/** Long tokens and keys shortened, so that an example stays readable. */
function shorten(text: string): string {
  return text.replace(/[A-Za-z0-9_-]{40,}(?:\.[A-Za-z0-9_-]{20,}){1,2}|csa_[A-Za-z0-9_-]{43}/g, (t) => `${t.slice(0, 12)}…`);
}

function bytesShown(parts: { head: Buffer; body: Buffer }): string {
  const text = shorten(Buffer.concat([parts.head, parts.body]).toString('latin1'));
  return JSON.stringify(text.length > 900 ? `${text.slice(0, 900)}…` : text);
}

let caseNo = 0;

/**
 * The identity the tool may see: what the trusted proxy's address sent as X-Forwarded-User (HTTP names
 * are case-insensitive; `X_Forwarded_User` or `X.Forwarded.User` is another header, which only CGI
 * folds into the same variable), when it sent exactly one and the caller is no agent; else none.
 */
function legitUser(c: GatewayCase): string | null {
  if (c.peer !== 'trusted' || c.caller !== 'person' && c.caller !== 'nobody') return null;
  const values = [...(c.caller === 'person' ? [['X-Forwarded-User', 'alice'] as const] : []), ...c.headers].filter(([n]) => n.toLowerCase() === 'x-forwarded-user').map(([, v]) => v.trim());
  return values.length === 1 ? values[0]! : null;
}
const contexts = new Map<string, Context>();
const STRICT: Context = { legitUser: null, agent: true };

function judgeLate(f: Findings, runStats: Map<string, number>): void {
  // Requests the tool received after their case's answer, or with no case tag (the client never sent them as one).
  for (const [tag, seens] of received) {
    received.delete(tag);
    for (const seen of seens) for (const v of judge(seen, contexts.get(tag) ?? STRICT)) f.add('unauthorized', `${v.cls} (arrived after the answer)`, seen.body.length, () => `${seen.method} ${seen.url}: ${v.detail}`);
  }
  for (const seen of untagged.splice(0)) {
    runStats.set('untagged', (runStats.get('untagged') ?? 0) + 1);
    f.add('unauthorized', 'the tool received a request the client did not send as one', seen.body.length, () => `${seen.method} ${seen.url} ${JSON.stringify(seen.rawHeaders)}`);
    for (const v of judge(seen, STRICT)) f.add('unauthorized', `${v.cls} (untagged)`, seen.body.length, () => v.detail);
  }
}

function checkAnswer(c: GatewayCase, reply: RawReply, f: Findings, size: number, example: () => string, runStats: Map<string, number>): void {
  const fromTool = reply.headers.get('x-tool')?.[0] === 'yes';
  if (reply.status === 0) runStats.set('no answer', (runStats.get('no answer') ?? 0) + 1);
  if (reply.status >= 500) {
    let code = '';
    try {
      code = (JSON.parse(reply.body) as { error?: { code?: string } }).error?.code ?? '';
    } catch {
      // not JSON
    }
    f.add('crash', `the gateway answered ${reply.status}${code ? ` ${code}` : ''}`, size, example);
  }
  if (c.caller === 'agent' && reply.headers.has('set-cookie')) f.add('unauthorized', "the tool's cookie reaches an agent", size, example);
  // A HEAD answer has no body to check.
  if (reply.status < 400 || fromTool || c.method === 'HEAD') return;
  // Node's HTTP parser refuses some requests before any handler sees them (no Host, bad framing, an
  // unknown Expect): an empty 400 or 417, or Fastify's clientError answer. Counted, not judged.
  const parser = () => runStats.set('parser refusals', (runStats.get('parser refusals') ?? 0) + 1);
  if (reply.body === '' && (reply.status === 400 || reply.status === 417 || reply.status === 431)) return void parser();
  let json: unknown;
  try {
    json = JSON.parse(reply.body);
  } catch {
    f.add('shape', `a ${reply.status} refusal that is not JSON`, size, example);
    return;
  }
  const parsed = ErrorBody.safeParse(json);
  if (parsed.success && ERROR_STATUS[parsed.data.error.code as keyof typeof ERROR_STATUS] === reply.status) return;
  if ((json as { message?: string }).message === 'Client Error') return void parser();
  const code = (json as { code?: unknown }).code;
  f.add('shape', `a ${reply.status} refusal not in DESIGN.md's shape${typeof code === 'string' ? ` (${code})` : ''}`, size, example);
}

async function runCase(c: GatewayCase, f: Findings, runStats: Map<string, number>): Promise<void> {
  judgeLate(f, runStats);
  const tag = `c${++caseNo}`;
  // An agent is whoever presents the live key under the header's own name, whatever caller the case began as
  // (hostile header lines may add one): the gateway then rightly speaks for the agent.
  const liveKeyLine = c.headers.some(([name, value]) => name.toLowerCase() === 'x-countersign-agent-key' && value === pools.agentKey);
  const ctx: Context = { legitUser: legitUser(c), agent: c.caller === 'agent' || liveKeyLine };
  contexts.set(tag, ctx);
  if (contexts.size > 64) contexts.delete(contexts.keys().next().value!);
  const parts = serialiseGatewayCase(c, pools, tag);
  w.upstream.seen.length = 0;
  const reply = await rawRequest(w.port, parts, { localAddress: c.peer === 'trusted' ? TRUSTED : UNTRUSTED });
  runStats.set(String(reply.status), (runStats.get(String(reply.status)) ?? 0) + 1);
  const size = parts.head.length + parts.body.length;
  const example = (more = '') => `  sent from ${c.peer === 'trusted' ? TRUSTED : UNTRUSTED} (${c.caller}): ${bytesShown(parts)}\n  answer ${reply.status} ${reply.body.slice(0, 160)}${more ? `\n  ${more}` : ''}`;
  const forwarded = received.get(tag) ?? [];
  received.delete(tag);
  if (forwarded.length > 0) runStats.set('forwarded', (runStats.get('forwarded') ?? 0) + 1);
  for (const seen of forwarded) for (const v of judge(seen, ctx)) f.add('unauthorized', v.cls, size, () => example(`the tool received ${seen.method} ${seen.url}; ${v.detail}`));
  checkAnswer(c, reply, f, size, () => example(), runStats);
}

const CALLERS_MOSTLY_PEOPLE = { person: 6, nobody: 2, agent: 3, 'revoked agent': 1, 'forged key': 1 } as const;

const FAMILIES: Array<{ name: string; focus: GatewayFocus }> = [
  { name: 'request-targets and titles (query, PATH_INFO, encodings, dot segments, entry points)', focus: { bodies: { urlencoded: 6, multipart: 0, other: 1, none: 3 }, headers: 1, callers: CALLERS_MOSTLY_PEOPLE, framing: false, approvals: 0.05 } },
  { name: 'form bodies (urlencoded names and repeats, multipart in odd shapes, files)', focus: { bodies: { urlencoded: 4, multipart: 6, other: 1, none: 0 }, headers: 1, callers: CALLERS_MOSTLY_PEOPLE, framing: false, approvals: 0.05 } },
  { name: 'header spellings (identity, approval, agent key, receipt; repeats) from both peers', focus: { bodies: { urlencoded: 4, multipart: 1, other: 1, none: 4 }, headers: 4, callers: { person: 4, nobody: 3, agent: 3, 'revoked agent': 1, 'forged key': 1 }, framing: false, approvals: 0.1 } },
  { name: 'framing (chunked, Content-Length variants, Expect)', focus: { bodies: { urlencoded: 6, multipart: 2, other: 1, none: 1 }, headers: 1, callers: CALLERS_MOSTLY_PEOPLE, framing: true, approvals: 0.05 } },
  { name: 'agent keys (every method and entry point, as the agent)', focus: { bodies: { urlencoded: 5, multipart: 2, other: 1, none: 4 }, headers: 2, callers: { agent: 8, 'revoked agent': 1, 'forged key': 1 }, framing: true, approvals: 0.1 } },
  { name: 'approvals (forged, edited and wrong-scope tokens in the header and the field)', focus: { bodies: { urlencoded: 6, multipart: 2, other: 1, none: 2 }, headers: 2, callers: CALLERS_MOSTLY_PEOPLE, framing: false, approvals: 1 } },
];
const RUNS = Math.ceil(FUZZ_RUNS / FAMILIES.length);

describe('fuzzing the gateway in front of MediaWiki: what reaches the tool, read as PHP and MediaWiki read it', () => {
  it.each(FAMILIES.map((f) => [f.name, f.focus] as const))(`%s: ${RUNS} raw requests, nothing MediaWiki would act on unapproved, no 5xx`, async (name, focus) => {
    const f = new Findings();
    const runStats = new Map<string, number>();
    let sent = 0;
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    try {
      await fc.assert(
        fc.asyncProperty(gatewayCaseArb(pools, focus), async (c) => {
          await runCase(c, f, runStats);
          sent++;
        }),
        { numRuns: RUNS, seed, endOnFailure: true },
      );
      judgeLate(f, runStats);
    } finally {
      recordAttacks(`fuzz gateway: ${name}`, sent, f.unauthorized);
    }
    console.log(`gateway fuzz (${name}): ${sent} sent (seed ${seed}), ${JSON.stringify(Object.fromEntries([...runStats].sort()))}`);
    expect(sent).toBe(RUNS);
    expect(f.report(), `seed ${seed}`).toEqual([]);
  });

  it('the gateway still answers and forwards after all of it', async () => {
    const reply = await rawRequest(w.port, serialiseGatewayCase({ peer: 'trusted', caller: 'person', keyHeader: 'X-Countersign-Agent-Key', method: 'GET', target: '/index.php?title=Main_Page', hosts: ['wiki.corp.example:8090'], headers: [], contentType: null, body: null, framing: { kind: 'length' }, expect: null, approval: { headers: [], field: null } }, pools, 'last'), { localAddress: TRUSTED });
    expect(reply.status).toBe(200);
    expect(received.get('last')?.[0]?.headers['x-forwarded-user']).toBe('alice');
    received.delete('last');
  });
});
