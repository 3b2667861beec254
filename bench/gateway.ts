// Gateway benchmarks (issue 15, performance): the reverse proxy in server/gateway/ as
// `npm run gateway` runs it, a child process like the verifier and the tool behind it. Every figure
// is against a baseline measured beside it in the same round, as the median of RUNS (REPETITIONS,
// bench/repeat.ts) rounds with its min–max and spread (NOISY over 15 %):
//   1. pass-through (a page GET, a person's unprotected form POST): throughput through the gateway /
//      direct to the tool (16 connections), and the p50 the gateway adds at concurrency 1, for a
//      static tool (a node:http server answering a ~4 KB page; also through the gateway's proxy
//      stack without the gateway, the limit of any gateway built on it) and, when Debian's
//      MediaWiki is installed, a real MediaWiki (test/helpers/mediawiki.ts; PHP's built-in server
//      closes every connection, so the gateway connects to it anew for each request);
//   2. a person's approved POST on a `requires: "always"` route, each request with a fresh token:
//      p50 through the gateway − p50 of the verify call alone (POST /v1/verify, straight to the
//      verifier) − p50 of the same POST direct to the tool, at concurrency 1.
// Node only (bench).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { actionDigest, approvalDraft, mintApprovalToken, newTraceId } from '../lib/protocol';
import { MEDIAWIKI_ROOT, startMediaWiki } from '../test/helpers/mediawiki';
import { freePort } from '../test/helpers/processes';
import type { RepeatedMetric } from './repeat';
import { REPETITIONS, median, repeat, repeatedMetric } from './repeat';
import type { Metric } from './verifier';
import { enrolledDevice, round, startVerifier } from './verifier';

const FORM = 'application/x-www-form-urlencoded';
const USER = 'alice';
/** Paired runs per figure: the median, min–max and spread of REPETITIONS. */
const RUNS = REPETITIONS;

/** The MediaWiki-shaped routes of DESIGN.md's example (as test/helpers/gateway.ts's ROUTES). */
const ROUTES = [
  { method: 'POST', path: '/index.php', query: { action: 'submit' }, scope: 'wiki.edit', content: 'wpTextbox1' },
  { method: 'POST', path: '/api.php', body: { action: 'edit' }, scope: 'wiki.edit', content: 'text' },
  { method: 'POST', path: '/api.php', body: { action: 'userrights' }, scope: 'wiki.rights', requires: 'always' },
  { method: 'POST', path: '/index.php', query: { title: 'Special:UserRights*' }, scope: 'wiki.rights', requires: 'always' },
  { method: 'POST', path: '/index.php/Special:UserRights/**', scope: 'wiki.rights', requires: 'always' },
];

interface Call {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const PAGE_GET: Call = { method: 'GET', path: '/index.php?title=Main_Page', headers: { 'x-forwarded-user': USER } };
/**
 * A person's POST that is no protected action: on a path that has routes (api.php), so the gateway
 * reads the body, checks the form and matches it (no route) before forwarding it: the unprotected
 * POST's full cost, as every form POST to a wiki's entry points pays it.
 */
const FORM_POST: Call = { method: 'POST', path: '/api.php', headers: { 'x-forwarded-user': USER, 'content-type': FORM }, body: 'action=query&meta=siteinfo&format=json' };
/** The rights change (requires "always"). */
const RIGHTS_PATH = '/index.php?title=Special:UserRights&user=Bob';
const RIGHTS_BODY = 'user=Bob&wpGroup-sysop=1&wpReason=On+call&saveusergroups=Save+user+groups';
const RIGHTS_POST: Call = { method: 'POST', path: RIGHTS_PATH, headers: { 'x-forwarded-user': USER, 'content-type': FORM }, body: RIGHTS_BODY };

/** The static tool: one ~4 KB HTML page (the size of a short wiki page) for every request, after reading its body. */
const STATIC_TOOL = `
const http = require('node:http');
const para = '<p>This is a page of the company wiki. It explains how to rotate the signing key, whom to call, and what to check afterwards.</p>\\n';
const head = '<!DOCTYPE html>\\n<html lang="en" dir="ltr"><head><meta charset="UTF-8"><title>Main Page - Countersign Wiki</title></head><body><div id="content"><h1>Main Page</h1>\\n';
const tail = '</div></body></html>\\n';
const page = Buffer.from((head + para.repeat(40)).slice(0, 4096 - tail.length) + tail);
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8', 'content-length': page.length, 'cache-control': 'private, must-revalidate, max-age=0' });
    res.end(page);
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.env.PORT), '127.0.0.1');
`;

/**
 * The gateway's proxy stack without the gateway: Fastify and @fastify/reply-from as app.ts sets them
 * up (bodies left as streams, the same undici pool), forwarding everything untouched. What a request
 * costs through it and not through the gateway is the gateway's own per-request work.
 */
const BARE_PROXY = `
const app = require('fastify')({ logger: false, requestIdHeader: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
app.register(require('@fastify/reply-from'), { base: process.env.UPSTREAM, undici: { connections: 128, pipelining: 1, keepAliveTimeout: 30000 } });
app.route({ method: ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'], url: '*', handler: (request, reply) => reply.from(request.raw.url) });
app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
`;

interface Child {
  url: string;
  stop(): Promise<void>;
}

/** A node child process (no tsx CLI: a signal reaches the server itself), waited for until GET / answers. */
async function startChild(what: string, args: string[], port: number, env: Record<string, string> = {}): Promise<Child> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await fetch(`${url}/`).then((r) => (r.body?.cancel(), r.status < 500), () => false)) return { url, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`${what} did not start within 30 s`);
}

async function startStaticTool(): Promise<Child> {
  return startChild('the static tool', ['-e', STATIC_TOOL], await freePort());
}

async function startBareProxy(upstream: string): Promise<Child> {
  return startChild('the bare proxy', ['-e', BARE_PROXY], await freePort(), { UPSTREAM: upstream });
}

/** `npm run gateway -- --config <tmp file>` in front of `upstream`, its origin http://127.0.0.1:<port>. */
async function startGateway(dir: string, name: string, upstream: string, verifier: string, port?: number): Promise<Child> {
  const listen = port ?? (await freePort());
  const config = {
    listen: { host: '127.0.0.1', port: listen },
    origin: `http://127.0.0.1:${listen}`,
    upstream,
    verifier,
    identity: { user: { header: 'X-Forwarded-User', trustedProxies: ['127.0.0.1'] }, agents: { header: 'X-Countersign-Agent-Key' } },
    routes: ROUTES,
  };
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return startChild(`the gateway (${name})`, ['--import', 'tsx', 'server/gateway/main.ts', '--config', file], listen);
}

/** Requests per second at `connections` for `seconds`; anything but 2xx, an error or a timeout is no measurement. */
async function throughput(base: string, call: Call, seconds: number, connections: number): Promise<number> {
  const result = await autocannon({
    url: `${base}${call.path}`,
    method: call.method,
    headers: call.headers,
    ...(call.body !== undefined ? { body: call.body } : {}),
    connections,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${call.method} ${base}${call.path}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total}`);
  }
  return result.requests.total / (result.duration || seconds);
}

/** One series of requests at concurrency 1: where, what, and the i-th request's own headers and body (a fresh token). */
interface Series {
  base: string;
  call: Call;
  headers?: (i: number) => Record<string, string>;
  body?: (i: number) => string | undefined;
}

/** One request on `agent` (node:http, the same client for every series); its milliseconds from writing it to its answer's last byte. Anything but 200 is no measurement. */
async function timed(agent: Agent, s: Series, i: number): Promise<number> {
  const url = new URL(s.base);
  const payload = s.body ? s.body(i) : s.call.body;
  const headers = { ...s.call.headers, ...s.headers?.(i), ...(payload !== undefined ? { 'content-length': String(Buffer.byteLength(payload)) } : {}) };
  const start = performance.now();
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpRequest({ agent, host: url.hostname, port: url.port, method: s.call.method, path: s.call.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
  const ms = performance.now() - start;
  if (status !== 200) throw new Error(`${s.call.method} ${s.base}${s.call.path}: HTTP ${status}: ${text.slice(0, 300)}`);
  return ms;
}

/**
 * `n` requests of each series at concurrency 1, interleaved (one of each in turn, the order rotating),
 * each series on its own kept-alive connection: the machine's drift falls on all of them alike. Each
 * series' p50.
 */
async function interleavedP50(series: Series[], n: number): Promise<number[]> {
  const agents = series.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const times: number[][] = series.map(() => []);
  try {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < series.length; k++) {
        const j = (k + i) % series.length;
        times[j]!.push(await timed(agents[j]!, series[j]!, i));
      }
    }
  } finally {
    for (const agent of agents) agent.destroy();
  }
  return times.map(median);
}

/** Requests per second from `connections` closed loops of node:http for `seconds` (for a tool whose answers autocannon cannot frame: MediaWiki's api.php ends its body by closing). */
async function closedLoop(s: Series, seconds: number, connections: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  const counts = await Promise.all(
    Array.from({ length: connections }, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      let n = 0;
      try {
        while (performance.now() < end) {
          await timed(agent, s, n);
          n++;
        }
      } finally {
        agent.destroy();
      }
      return n;
    }),
  );
  return counts.reduce((a, b) => a + b, 0) / ((performance.now() - start) / 1000);
}

function ranged(metric: string, runs: number[], digits: number, unit: string, goal: string, pass: (median: number) => boolean): RepeatedMetric {
  return repeatedMetric(runs, { metric, unit, goal, digits, pass });
}

interface PassThroughOptions {
  seconds: number;
  connections: number;
  /** Requests of each series per latency run. */
  requests: number;
  /** autocannon (fastest client), or closed loops of node:http (answers framed by closing the connection). */
  load: 'autocannon' | 'node:http';
}

/**
 * One kind of request direct to the tool, through the bare proxy stack (when given) and through the
 * gateway: RUNS rounds of throughput phases (the order rotating, so the machine's drift falls on all)
 * and RUNS interleaved latency runs. The per-round throughput ratios and p50 differences.
 */
async function passThrough(label: string, kind: string, targets: { tool: string; bare?: string; gateway: string }, call: Call, o: PassThroughOptions, log: (line: string) => void): Promise<RepeatedMetric[]> {
  const rate = (base: string, seconds: number) => (o.load === 'autocannon' ? throughput(base, call, seconds, o.connections) : closedLoop({ base, call }, seconds, o.connections));
  const bases = [targets.tool, targets.gateway, ...(targets.bare !== undefined ? [targets.bare] : [])];
  // Warm-up (JIT, connection pools, the wiki's caches): not counted.
  for (const base of bases) await rate(base, 1);
  const rounds = await repeat(RUNS, async (r) => {
    const rps: number[] = [];
    for (let k = 0; k < bases.length; k++) {
      const j = (k + r) % bases.length;
      rps[j] = await rate(bases[j]!, o.seconds);
    }
    return rps;
  });
  const series = bases.map((base) => ({ base, call }));
  await interleavedP50(series, Math.ceil(o.requests / 4));
  const p50s = await repeat(RUNS, () => interleavedP50(series, o.requests));

  const name = `gateway, ${label}, ${kind}`;
  const directRps = rounds.map((x) => x[0]!);
  const ratios = rounds.map((x) => x[1]! / x[0]!);
  const directP50 = p50s.map((x) => x[0]!);
  const added = p50s.map((x) => x[1]! - x[0]!);
  log(`${label}, ${kind}: req/s (direct, gateway${targets.bare ? ', bare' : ''}) ${rounds.map((x) => x.map((v) => round(v)).join('/')).join(', ')}; p50 ms ${p50s.map((x) => x.map((v) => round(v, 3)).join('/')).join(', ')}`);
  const metrics = [
    ranged(`baseline: ${name}: direct throughput, ${o.connections} connections`, directRps, 0, 'req/s', 'baseline', () => true),
    ranged(`${name}: throughput through the gateway / direct, ${o.connections} connections, median of ${RUNS} rounds`, ratios, 2, '×', '≥ 0.8', (m) => m >= 0.8),
  ];
  if (targets.bare !== undefined) {
    metrics.push(
      ranged(`${name}: throughput through the bare proxy stack (Fastify + reply-from, no checks) / direct`, rounds.map((x) => x[2]! / x[0]!), 2, '×', 'report', () => true),
      ranged(`${name}: throughput through the gateway / through the bare proxy stack`, rounds.map((x) => x[1]! / x[2]!), 2, '×', 'report', () => true),
    );
  }
  metrics.push(
    ranged(`baseline: ${name}: direct p50, concurrency 1`, directP50, 3, 'ms', 'baseline', () => true),
    ranged(`${name}: added p50 through the gateway, concurrency 1, median of ${RUNS} runs of ${o.requests} interleaved`, added, 3, 'ms', '≤ 1', (m) => m <= 1),
  );
  if (targets.bare !== undefined) {
    metrics.push(ranged(`${name}: added p50 through the bare proxy stack, concurrency 1`, p50s.map((x) => x[2]! - x[0]!), 3, 'ms', 'report', () => true));
  }
  return metrics;
}

type Device = Awaited<ReturnType<typeof enrolledDevice>>;

/** Fresh tokens for alice's own rights change on `origin` (agt `user:alice`), minted just before use (they live 120 s). */
async function mintRights(device: Device, origin: string, n: number): Promise<string[]> {
  const request = { method: 'POST', url: `${origin}${RIGHTS_PATH}`, contentType: FORM, body: RIGHTS_BODY };
  const digest = await actionDigest(request);
  const tokens: string[] = [];
  // Each carries the person's presence: wiki.rights needs it.
  for (let i = 0; i < n; i++) {
    const draft = approvalDraft({});
    const wa = await device.authenticator.assert({ dig: digest, jti: draft.jti, exp: draft.exp });
    const { token } = await mintApprovalToken({ privateKey: device.privateKey, kid: device.kid, deviceId: device.deviceId, userId: USER, request, agent: `user:${USER}`, scope: 'wiki.rights', traceId: newTraceId(), now: draft.iat, jti: draft.jti, wa });
    tokens.push(token);
  }
  return tokens;
}

/**
 * A person's approved rights change through the gateway, the equivalent verify call alone (the body
 * the gateway's remote verifier sends) and the same POST direct to the tool, interleaved at
 * concurrency 1, `n` of each per run, every token fresh and used once.
 */
async function approved(device: Device, verifier: string, gateway: string, tool: string, n: number, log: (line: string) => void): Promise<RepeatedMetric[]> {
  const url = `${gateway}${RIGHTS_PATH}`;
  const verifyCall: Call = { method: 'POST', path: '/v1/verify', headers: { 'content-type': 'application/json' } };
  const run = async (count: number) => {
    const [viaGateway, alone] = [await mintRights(device, gateway, count), await mintRights(device, gateway, count)];
    return interleavedP50(
      [
        { base: gateway, call: RIGHTS_POST, headers: (i) => ({ 'countersign-approval': viaGateway[i]! }) },
        {
          base: verifier,
          call: verifyCall,
          body: (i) => JSON.stringify({ token: alone[i], request: { method: 'POST', url, contentType: FORM, body: RIGHTS_BODY }, scope: 'wiki.rights', principal: { kind: 'user', id: USER } }),
        },
        { base: tool, call: RIGHTS_POST },
      ],
      count,
    );
  };
  await run(Math.ceil(n / 4));
  const runs = await repeat(RUNS, async () => {
    const [g, v, d] = await run(n);
    return { gateway: g!, verify: v!, direct: d! };
  });
  const added = runs.map((p) => p.gateway - p.verify - p.direct);
  log(`approved (through − verify − direct): ${runs.map((p) => `${round(p.gateway, 2)} − ${round(p.verify, 2)} − ${round(p.direct, 2)}`).join('; ')} ms`);
  return [
    ranged('baseline: gateway, approved rights change: the verify call alone (POST /v1/verify, SQLite), p50, concurrency 1', runs.map((p) => p.verify), 3, 'ms', 'baseline', () => true),
    ranged('baseline: gateway, approved rights change: the same POST direct to the static tool, p50, concurrency 1', runs.map((p) => p.direct), 3, 'ms', 'baseline', () => true),
    ranged('gateway, approved rights change (requires always, a fresh token each): p50 through the gateway, concurrency 1', runs.map((p) => p.gateway), 3, 'ms', 'report', () => true),
    ranged(`gateway, approved rights change: added p50 (through − verify alone − direct), median of ${RUNS} runs of ${n}`, added, 3, 'ms', '≤ 2', (m) => m <= 2),
  ];
}

export async function gatewayMetrics(log: (line: string) => void = () => undefined): Promise<Metric[]> {
  const metrics: Metric[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-gateway-'));
  const stops: Array<() => Promise<void>> = [];
  try {
    const verifier = await startVerifier(`sqlite:${join(dir, 'verifier.db')}`);
    stops.push(() => verifier.stop());
    // Its tokens are used in an interleaved order: an authenticator without a sign count (as many passkeys are).
    const device = await enrolledDevice(verifier.url, { counting: 'zero' });
    const tool = await startStaticTool();
    stops.push(() => tool.stop());
    const gateway = await startGateway(dir, 'static', tool.url, verifier.url);
    stops.push(() => gateway.stop());
    const bare = await startBareProxy(tool.url);
    stops.push(() => bare.stop());
    const targets = { tool: tool.url, bare: bare.url, gateway: gateway.url };

    const fast: PassThroughOptions = { seconds: 1.5, connections: 16, requests: 400, load: 'autocannon' };
    metrics.push(...(await passThrough('static tool', 'GET a 4 KB page', targets, PAGE_GET, fast, log)));
    metrics.push(...(await passThrough('static tool', "a person's unprotected form POST", targets, FORM_POST, fast, log)));
    // Tokens issued in the verifier's boot second are refused (boot epoch): long past by now.
    metrics.push(...(await approved(device, verifier.url, gateway.url, tool.url, 200, log)));
    await bare.stop();
    await gateway.stop();
    await tool.stop();

    if (existsSync(join(MEDIAWIKI_ROOT, 'maintenance/install.php'))) {
      const port = await freePort();
      const wiki = await startMediaWiki({ server: `http://127.0.0.1:${port}` });
      stops.push(() => wiki.stop());
      const wikiGateway = await startGateway(dir, 'mediawiki', wiki.url, verifier.url, port);
      stops.push(() => wikiGateway.stop());
      log(`MediaWiki on ${wiki.url}, its gateway on ${wikiGateway.url}`);
      const slow: PassThroughOptions = { seconds: 2, connections: 4, requests: 40, load: 'node:http' };
      metrics.push(...(await passThrough('MediaWiki', 'GET Main_Page', { tool: wiki.url, gateway: wikiGateway.url }, PAGE_GET, slow, log)));
      metrics.push(...(await passThrough('MediaWiki', "a person's unprotected form POST (api.php siteinfo)", { tool: wiki.url, gateway: wikiGateway.url }, FORM_POST, slow, log)));
    } else {
      log(`no MediaWiki at ${MEDIAWIKI_ROOT} (scripts/mediawiki.sh installs it): measured against the static tool only`);
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return metrics;
}
