// What the gateway tests share: a real verifier on a socket with alice, bob and alice's agent; a
// recording upstream (a plain node:http tool that keeps every request's bytes); a gateway in front
// of it; and a raw client that writes bytes as given (for framing attacks). Node only (tests).
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ActionRequest } from '../../lib/protocol';
import { buildGateway } from '../../server/gateway/app';
import { parseGatewayConfig } from '../../server/gateway/config';
import type { GatewayConfig, GatewayConfigFile } from '../../server/gateway/config';
import type { VerifierClient } from '../../server/middleware';
import { startVerifier } from './verifier';
import type { DatabaseKind, Device, TestVerifier } from './verifier';
import { dechunk } from './http-wire';

export const ORIGIN = 'http://wiki.corp.example:8090';
export const HOST = 'wiki.corp.example:8090';
export const AGENT = 'wiki-helper';
export const BOT_COOKIE = 'wikidb_session=bot-session-secret-0123456789';
export const FORM = 'application/x-www-form-urlencoded';

/** The MediaWiki-shaped routes of DESIGN.md's example, plus the rights API and PATH_INFO forms. */
export const ROUTES: GatewayConfigFile['routes'] = [
  { method: 'POST', path: '/index.php', query: { action: 'submit' }, scope: 'wiki.edit', content: 'wpTextbox1' },
  { method: 'POST', path: '/api.php', body: { action: 'edit' }, scope: 'wiki.edit', content: 'text' },
  { method: 'POST', path: '/api.php', body: { action: 'userrights' }, scope: 'wiki.rights', requires: 'always' },
  { method: 'POST', path: '/index.php', query: { title: 'Special:UserRights*' }, scope: 'wiki.rights', requires: 'always' },
  { method: 'POST', path: '/index.php/Special:UserRights/**', scope: 'wiki.rights', requires: 'always' },
];

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface Upstream {
  port: number;
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** A tool that records each request and answers 200 with a cookie and a body naming what it got. */
export async function startUpstream(respond?: (seen: Seen, res: ServerResponse) => void): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) };
      seen.push(s);
      if (respond) return respond(s, res);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'set-cookie': 'wikidb_session=renewed-secret; HttpOnly', 'x-tool': 'yes' });
      res.end(`${s.method} ${s.url} ${s.body.length}`);
    });
  });
  const port = await listen(server);
  return { port, url: `http://127.0.0.1:${port}`, seen, close: () => closeServer(server) };
}

export async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface GatewayWorld {
  v: TestVerifier;
  alice: Device;
  bob: Device;
  verifierUrl: string;
  upstream: Upstream;
  config: GatewayConfig;
  gateway: FastifyInstance;
  port: number;
  /** A new agent key for AGENT (admin API), and its id. */
  agentKey(): Promise<{ keyId: string; key: string }>;
  /** alice's (or `device`'s) approval of exactly this request on ORIGIN; with a user-verified assertion where the scope needs presence, unless `presence: false`. */
  approve(request: Partial<ActionRequest> & { url: string }, options?: { agent?: string; scope?: string; device?: Device; presence?: boolean }): Promise<string>;
  /** Another gateway instance on the same verifier and upstream. */
  another(overrides?: Partial<GatewayConfigFile>): Promise<{ port: number; app: FastifyInstance; close(): Promise<void> }>;
  close(): Promise<void>;
}

export interface GatewayWorldOptions {
  config?: Partial<GatewayConfigFile>;
  /** Instead of the real verifier over HTTP (e.g. one that never answers). */
  verifier?: VerifierClient;
  respond?: (seen: Seen, res: ServerResponse) => void;
  /** A real tool to put the gateway in front of, instead of the recording upstream. */
  upstream?: string;
  /** The agent's environment credentials (default: WIKI_HELPER_COOKIE = BOT_COOKIE). */
  env?: Record<string, string>;
  /** The verifier's database (default SQLite). */
  database?: DatabaseKind;
}

export async function startGatewayWorld(options: GatewayWorldOptions = {}): Promise<GatewayWorld> {
  const v = await startVerifier(options.database ?? 'sqlite');
  const alice = await v.enroll('alice');
  const bob = await v.enroll('bob');
  await v.registerAgent(AGENT, 'alice', ['wiki.edit'], [ORIGIN]);
  const verifierUrl = await v.app.listen({ port: 0, host: '127.0.0.1' });
  const recording = await startUpstream(options.respond);
  const upstream = options.upstream ? { ...recording, url: options.upstream } : recording;
  const file = (overrides?: Partial<GatewayConfigFile>): unknown => ({
    listen: { host: '127.0.0.1', port: 0 },
    origin: ORIGIN,
    upstream: upstream.url,
    verifier: verifierUrl,
    identity: { user: { header: 'X-Forwarded-User', trustedProxies: ['127.0.0.1'] }, agents: { header: 'X-Countersign-Agent-Key' } },
    routes: ROUTES,
    credentials: { [`agent:${AGENT}`]: { set: { Cookie: 'env:WIKI_HELPER_COOKIE' } } },
    bodyLimit: 64 * 1024,
    ...options.config,
    ...overrides,
  });
  const env = options.env ?? { WIKI_HELPER_COOKIE: BOT_COOKIE };
  const config = parseGatewayConfig(file(), env);
  const start = async (c: GatewayConfig) => {
    const app = await buildGateway({ config: c, ...(options.verifier ? { verifier: options.verifier } : {}) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { app, port: (app.server.address() as AddressInfo).port };
  };
  const first = await start(config);
  const others: FastifyInstance[] = [];
  return {
    v,
    alice,
    bob,
    verifierUrl,
    upstream,
    config,
    gateway: first.app,
    port: first.port,
    async agentKey() {
      const res = await v.admin('POST', `/v1/admin/agents/${AGENT}/keys`);
      if (res.statusCode !== 201) throw new Error(`agent key: ${res.statusCode} ${res.body}`);
      return res.json() as { keyId: string; key: string };
    },
    async approve(request, o = {}) {
      const full: ActionRequest = {
        method: request.method ?? 'POST',
        url: `${ORIGIN}${request.url}`,
        contentType: request.contentType === undefined ? FORM : request.contentType,
        body: request.body ?? null,
      };
      return (await v.mint(o.device ?? alice, { request: full, agent: o.agent ?? AGENT, scope: o.scope ?? 'wiki.edit', ...(o.presence !== undefined ? { presence: o.presence } : {}) })).token;
    },
    async another(overrides) {
      const started = await start(parseGatewayConfig(file(overrides), env));
      others.push(started.app);
      return { port: started.port, app: started.app, close: () => started.app.close() };
    },
    async close() {
      for (const o of others) await o.close();
      await first.app.close();
      await recording.close();
      await v.close();
    },
  };
}

export interface RawAnswer {
  /** Every status line and header block the server wrote, in order (a `100 Continue` first, if sent). */
  heads: Array<{ status: number; headers: Record<string, string> }>;
  status: number;
  headers: Record<string, string>;
  body: string;
  code: string | null;
}

/**
 * Writes bytes as given on a fresh connection and reads everything until the server closes it (the
 * request should say `Connection: close`). `pause` sends `rest` only after the first answer head
 * arrives, or after `pauseMs` if none comes (Expect: 100-continue).
 */
export function rawExchange(port: number, head: string, rest: Buffer | string = '', options: { waitForContinue?: boolean; timeoutMs?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let restSent = !options.waitForContinue;
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 5000);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (!restSent && Buffer.concat(chunks).includes('\r\n\r\n')) {
        restSent = true;
        const text = Buffer.concat(chunks).toString('latin1');
        if (text.startsWith('HTTP/1.1 100')) socket.write(rest);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseAnswer(Buffer.concat(chunks)));
      } catch (error) {
        reject(error as Error);
      }
    });
    socket.write(head);
    if (restSent && rest.length > 0) socket.write(rest);
  });
}

function parseAnswer(raw: Buffer): RawAnswer {
  const heads: RawAnswer['heads'] = [];
  let at = 0;
  let body = '';
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const [statusLine, ...lines] = raw.subarray(at, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(statusLine!.split(' ')[1]);
    heads.push({ status, headers });
    at = end + 4;
    if (status >= 200) {
      const rest = raw.subarray(at);
      body = (headers['transfer-encoding'] === 'chunked' ? dechunk(rest) : rest).toString('utf8');
      break;
    }
  }
  const last = heads[heads.length - 1] ?? { status: 0, headers: {} };
  let code: string | null = null;
  try {
    code = (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    // not JSON
  }
  return { heads, status: last.status, headers: last.headers, body, code };
}

/** A request head: request line, Host, the given header lines, `Connection: close`, blank line. */
export function head(method: string, target: string, lines: string[] = [], host: string | null = HOST): string {
  return [`${method} ${target} HTTP/1.1`, ...(host === null ? [] : [`Host: ${host}`]), ...lines, 'Connection: close', '', ''].join('\r\n');
}

/** A complete request with a Content-Length body. */
export function request(method: string, target: string, options: { headers?: string[]; body?: string | Buffer; contentType?: string | null; host?: string | null } = {}): [string, Buffer] {
  const body = Buffer.from(options.body ?? '');
  const type = options.contentType === undefined ? (body.length > 0 ? FORM : null) : options.contentType;
  const lines = [...(type !== null ? [`Content-Type: ${type}`] : []), ...(options.headers ?? []), ...(body.length > 0 || method === 'POST' ? [`Content-Length: ${body.length}`] : [])];
  return [head(method, target, lines, options.host === undefined ? HOST : options.host), body];
}

/** Sends one complete request (see `request`). */
export function send(port: number, method: string, target: string, options: Parameters<typeof request>[2] = {}): Promise<RawAnswer> {
  const [h, body] = request(method, target, options);
  return rawExchange(port, h, body);
}
