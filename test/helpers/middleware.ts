// What the middleware tests share: a real verifier with alice, bob and alice's agent; one small tool
// built on each front door (Fastify, Express, node:http) listening on a real socket; and raw HTTP
// clients that send a request-target, Host and body byte for byte as given (fetch and inject
// normalise them). Node only (tests).
import { once } from 'node:events';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import Fastify from 'fastify';
import type { FastifyServerOptions } from 'fastify';
import type { ActionRequest, Principal } from '../../lib/protocol';
import { countersignExpress, countersignFastify, countersignNode, inProcessVerifier, remoteVerifier } from '../../server/middleware';
import type { AssistantMarkers, NodeRoute, VerifierClient } from '../../server/middleware';
import { startVerifier } from './verifier';
import type { DatabaseKind, Device, TestVerifier } from './verifier';
import { dechunk } from './http-wire';

export const TOOL_ORIGIN = 'http://127.0.0.1:8080';
export const TOOL_HOST = '127.0.0.1:8080';
/** The same tool under its public name (a second configured origin). */
export const PUBLIC_ORIGIN = 'https://forum.corp.example';
export const AGENT = 'agent:forum-helper';
export const AGENT_KEY = 'forum-helper-key';
export const MARKERS: AssistantMarkers = { headers: ['X-Assistant'], fields: { author_kind: 'assistant' } };

export const REPLIES = '/api/topics/1/replies';
export const ACCESS = '/api/datasets/42/access';
export const EXPORT = '/api/datasets/42/export';
export const REPLY_BODY = '{"body":"Try revoking the group grant."}';
export const ACCESS_BODY = '{"visibility":"all-employees"}';
export const JSON_TYPE = 'application/json';
export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** The tool's protected routes, as every front door declares them. */
export const ROUTES = {
  reply: { method: 'POST', path: '/api/topics/:id/replies', scope: 'forum.post', content: '/body' },
  access: { method: 'PUT', path: '/api/datasets/:id/access', scope: 'admin.acl.write', requires: 'always' },
  exportData: { method: 'GET', path: '/api/datasets/:id/export', scope: 'forum.post' },
} as const satisfies Record<string, NodeRoute>;
export type RouteName = keyof typeof ROUTES;

/** How the tests' tools tell people from agents: an agent key header, else a session user. */
export function principalFrom(headers: IncomingHttpHeaders): Principal {
  if (headers['x-agent-key'] === AGENT_KEY) return { kind: 'agent', id: AGENT };
  const user = headers['x-user'];
  return { kind: 'user', id: typeof user === 'string' ? user : 'anonymous' };
}

// ---------- the verifier ----------

export interface World {
  v: TestVerifier;
  alice: Device;
  bob: Device;
  inProcess(): VerifierClient;
  /** A remote client of the verifier, listening on a socket (started on first use). */
  remote(): Promise<VerifierClient>;
  /** alice's approval of exactly this request (`url` a path on the tool's origin, or absolute); `presence` as in TestVerifier.mint. */
  approve(request: Partial<ActionRequest> & { url: string }, options?: { agent?: string; scope?: string; device?: Device; presence?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function startWorld(kind: DatabaseKind = 'sqlite'): Promise<World> {
  const v = await startVerifier(kind);
  const alice = await v.enroll('alice');
  const bob = await v.enroll('bob');
  await v.registerAgent(AGENT, 'alice', ['forum.post'], [TOOL_ORIGIN, PUBLIC_ORIGIN]);
  let remoteUrl: string | undefined;
  return {
    v,
    alice,
    bob,
    inProcess: () => inProcessVerifier(v.app.verifier.verifyDeps),
    async remote() {
      remoteUrl ??= await v.app.listen({ port: 0, host: '127.0.0.1' });
      return remoteVerifier({ url: remoteUrl });
    },
    async approve(request, options = {}) {
      const full: ActionRequest = {
        method: request.method ?? 'POST',
        url: request.url.startsWith('/') ? `${TOOL_ORIGIN}${request.url}` : request.url,
        contentType: request.contentType === undefined ? JSON_TYPE : request.contentType,
        body: request.body === undefined ? REPLY_BODY : request.body,
      };
      return (await v.mint(options.device ?? alice, { request: full, agent: options.agent ?? AGENT, scope: options.scope ?? 'forum.post', ...(options.presence !== undefined ? { presence: options.presence } : {}) })).token;
    },
    close: () => v.close(),
  };
}

// ---------- the tools ----------

export type Framework = 'fastify' | 'express' | 'node';
export const FRAMEWORKS: Framework[] = ['fastify', 'express', 'node'];

export interface Handled {
  route: RouteName;
  method: string;
  body: unknown;
  receipt: string | null;
}

export interface Tool {
  port: number;
  /** Every request a protected handler ran for. */
  handled: Handled[];
  close(): Promise<void>;
}

export interface ToolOptions {
  verifier: VerifierClient;
  origin?: string | string[];
  /** Fastify: the instance's options (routerOptions, bodyLimit…). */
  fastify?: FastifyServerOptions;
  /** Express: app settings (`case sensitive routing`, `strict routing`). */
  express?: Record<string, unknown>;
  /** Express: rewrite `req.method` from X-HTTP-Method-Override before the router, as the method-override package does. */
  methodOverride?: boolean;
  /** Every front door's body limit. */
  bodyLimit?: number;
}

function answer(handled: Handled[], route: RouteName, method: string, body: unknown, receipt: string | undefined) {
  // A form's fields come in a null-prototype object; JSON-friendly for the answer.
  const plain = body instanceof Uint8Array ? { bytes: Buffer.from(body).toString('base64') } : body !== null && typeof body === 'object' ? { ...body } : body;
  handled.push({ route, method, body: plain, receipt: receipt ?? null });
  return { ok: true, route, body: plain, receipt: receipt ?? null };
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function buildTool(framework: Framework, options: ToolOptions): Promise<Tool> {
  const handled: Handled[] = [];
  const origin = options.origin ?? TOOL_ORIGIN;
  const common = { origin, markers: MARKERS, verifier: options.verifier };

  if (framework === 'fastify') {
    const app = Fastify({ ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}), ...options.fastify });
    await app.register(countersignFastify, { ...common, principal: (req) => principalFrom(req.headers) });
    // The tool's own parsers (as @fastify/formbody or @fastify/multipart would add): Fastify answers 415
    // for a type it has none for, before any hook sees the body. Their result is replaced by the protocol's parse.
    app.addContentTypeParser([FORM_TYPE, 'multipart/form-data', 'text/plain', 'application/octet-stream'], { parseAs: 'buffer' }, (_r, b, done) => done(null, b));
    for (const [name, route] of Object.entries(ROUTES) as Array<[RouteName, NodeRoute]>) {
      app.route({
        method: route.method as 'POST',
        url: route.path,
        config: { countersign: { scope: route.scope, ...(route.requires ? { requires: route.requires } : {}), ...(route.content ? { content: route.content } : {}) } },
        handler: async (req) => answer(handled, name, req.method, req.body, req.countersign?.receipt),
      });
    }
    app.get('/api/topics/:id', async () => ({ ok: true, open: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, handled, close: () => app.close() };
  }

  if (framework === 'express') {
    const app = express();
    for (const [k, v] of Object.entries(options.express ?? {})) app.set(k, v);
    if (options.methodOverride) {
      app.use((req: Request, _res: Response, next: NextFunction) => {
        const override = req.headers['x-http-method-override'];
        if (req.method === 'POST' && typeof override === 'string') {
          (req as Request & { originalMethod?: string }).originalMethod = req.method;
          req.method = override.toUpperCase();
        }
        next();
      });
    }
    const countersign = countersignExpress({ ...common, principal: (req) => principalFrom(req.headers), ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}) });
    for (const [name, route] of Object.entries(ROUTES) as Array<[RouteName, NodeRoute]>) {
      const method = route.method.toLowerCase() as 'post' | 'put' | 'get';
      app[method](route.path, countersign.protect(route), (req: Request, res: Response) => {
        res.json(answer(handled, name, req.method, req.body, req.countersign?.receipt));
      });
    }
    app.get('/api/topics/:id', (_req, res) => {
      res.json({ ok: true, open: true });
    });
    const server = createServer(app);
    const port = await listen(server);
    return { port, handled, close: () => closeServer(server) };
  }

  const routes = (Object.entries(ROUTES) as Array<[RouteName, NodeRoute]>).map(([name, route]) => ({ ...route, name }));
  const guard = countersignNode({ ...common, routes, principal: (req) => principalFrom(req.headers), ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}) });
  const server = createServer(async (req, res) => {
    try {
      const g = await guard(req, res);
      if (!g.ok) return;
      if (g.route) {
        const body = JSON.stringify(answer(handled, g.route.name, req.method!, g.body, g.countersign?.receipt));
        res.writeHead(200, { 'content-type': JSON_TYPE }).end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      const open = /^\/api\/topics\/[^/]+$/.test(req.url ?? '') && req.method === 'GET';
      res.writeHead(open ? 200 : 404, { 'content-type': JSON_TYPE }).end(open ? '{"ok":true,"open":true}' : '{"error":{"code":"not_found"}}');
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  const port = await listen(server);
  return { port, handled, close: () => closeServer(server) };
}

// ---------- raw HTTP ----------

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  json(): { error?: { code?: string; message?: string; traceId?: string }; [key: string]: unknown };
  /** The DESIGN.md error code, or null. */
  code: string | null;
}

export interface RawRequest {
  method?: string;
  target: string;
  /** The Host header; `null` sends none, as HTTP/1.0 (Node refuses an HTTP/1.1 request without one). Default the tool's. */
  host?: string | null;
  headers?: Record<string, string> | Array<[string, string]>;
  body?: string | Buffer;
  contentType?: string | null;
}

/** Sends one request exactly as given (target, Host, header order) on a fresh connection, and reads the answer. */
export function rawRequest(port: number, request: RawRequest): Promise<RawResponse> {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const host = request.host === undefined ? TOOL_HOST : request.host;
  const lines = [`${request.method ?? 'POST'} ${request.target} HTTP/${host === null ? '1.0' : '1.1'}`];
  if (host !== null) lines.push(`Host: ${host}`);
  const contentType = request.contentType === undefined ? (body.length > 0 ? JSON_TYPE : null) : request.contentType;
  if (contentType !== null) lines.push(`Content-Type: ${contentType}`);
  const headers = Array.isArray(request.headers) ? request.headers : Object.entries(request.headers ?? {});
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  lines.push(`Content-Length: ${body.length}`, 'Connection: close', '', '');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error as Error);
      }
    });
    socket.write(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]));
  });
}

function parseResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no HTTP response: ${raw.toString('latin1').slice(0, 200)}`);
  const [statusLine, ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  const text = body.toString('utf8');
  const json = () => JSON.parse(text) as ReturnType<RawResponse['json']>;
  let code: string | null = null;
  try {
    const c = json().error?.code;
    code = typeof c === 'string' ? c : null;
  } catch {
    // Not JSON (a framework's HTML 404).
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, text, json, code };
}

/** A request whose body is pulled from a generator as the connection takes it: how much was pulled when the answer came. */
export async function streamedRequest(
  port: number,
  options: { target: string; totalBytes: number; chunkBytes?: number; declareLength: boolean; headers?: Record<string, string> },
): Promise<{ status: number; code: string | null; pulledWhenAnswered: number; connection: string | undefined }> {
  const chunk = Buffer.alloc(options.chunkBytes ?? 64 * 1024, 0x61);
  let pulled = 0;
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: options.target,
    headers: {
      host: TOOL_HOST,
      'content-type': 'text/plain',
      ...(options.declareLength ? { 'content-length': String(options.totalBytes) } : {}),
      ...options.headers,
    },
  });
  req.on('error', () => undefined); // The server may close the connection on us: that is the point.
  const answered = new Promise<{ status: number; code: string | null; pulledWhenAnswered: number; connection: string | undefined }>((resolve, reject) => {
    req.on('response', (res) => {
      const pulledWhenAnswered = pulled;
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        let code: string | null = null;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } }).error?.code ?? null;
        } catch {
          code = null;
        }
        resolve({ status: res.statusCode ?? 0, code, pulledWhenAnswered, connection: res.headers.connection });
        req.destroy();
      });
      res.on('error', reject);
    });
  });
  // Write with backpressure, as a generator stream piped into the socket would.
  void (async () => {
    while (pulled < options.totalBytes && !req.destroyed) {
      const n = Math.min(chunk.length, options.totalBytes - pulled);
      pulled += n;
      if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        // Each wait's listeners go with it (events.once adds an 'error' one too): none pile up on the request.
        const waited = new AbortController();
        const wait = (event: string) => once(req, event, { signal: waited.signal }).catch(() => undefined);
        await Promise.race([wait('drain'), wait('close')]);
        waited.abort();
      }
    }
    if (!req.destroyed) req.end();
  })().catch(() => undefined);
  return answered;
}
