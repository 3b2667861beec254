// The demo tools' own authentication: a password-less sign-in for alice and bob (HttpOnly session
// cookie, id kept server-side) and agent keys for the assistants. It answers the middleware's
// "who is asking". Node only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../lib/protocol';
import { headerValue, sendError } from './http';
import { html } from './html';
import type { SiteInfo } from './layout';
import { renderPage } from './layout';
import type { DemoAgent, DemoStore, ToolName } from './store';

export const AGENT_KEY_HEADER = 'x-agent-key';

export interface DemoAuth {
  principal: Principal;
  /** The signed-in person, or null for an agent. */
  userId: string | null;
  agent: DemoAgent | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking, from the session cookie or the agent key; null when neither. */
    demoAuth: DemoAuth | null;
  }
}

export interface AuthOptions {
  store: DemoStore;
  tool: ToolName;
  site: SiteInfo;
  /**
   * Cookies are scoped by host, not port: the two tools need their own cookie names in case both
   * are opened on the same host.
   */
  cookieName: string;
}

/** The principal handed to `countersignFastify`. API routes never get here unauthenticated. */
export function principalOf(request: FastifyRequest): Principal {
  return request.demoAuth?.principal ?? { kind: 'user', id: 'anonymous' };
}

/** The caller of an API route; the onRequest hook has already refused anyone else. */
export function authOf(request: FastifyRequest): DemoAuth {
  if (!request.demoAuth) throw new Error('unauthenticated request reached an API handler');
  return request.demoAuth;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** A same-site path to return to after sign-in; anything else (`//evil`, `https:…`) goes home. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/';
}

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const { store, tool, cookieName } = options;
  app.decorateRequest('demoAuth', null);

  app.addHook('onRequest', async (request, reply) => {
    const key = headerValue(request.headers[AGENT_KEY_HEADER]);
    if (key !== undefined) {
      // An agent is an agent, whatever cookie its runtime happens to carry.
      const agent = store.agentByKey(key);
      if (!agent) return sendError(reply, 'unauthorized', 'unknown agent key');
      request.demoAuth = { principal: { kind: 'agent', id: agent.id }, userId: null, agent };
    } else {
      const session = parseCookies(request.headers.cookie).get(cookieName);
      const userId = session ? store.sessionUser(tool, session) : undefined;
      if (userId) request.demoAuth = { principal: { kind: 'user', id: userId }, userId, agent: null };
    }
    // The matched route's pattern, not the raw URL: `/%61pi/...` must not slip past.
    if (!request.demoAuth && request.routeOptions.url?.startsWith('/api/')) {
      return sendError(reply, 'unauthorized', 'sign in at /login, or send an agent key');
    }
  });

  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    const next = safeNext(request.query.next);
    const main = html`<h1>Sign in to ${options.site.name}</h1>
<p>Demo sign-in: pick a person, no password. Assistants never sign in here; they use agent keys of their own.</p>
<form class="login" method="post" action="/login">
<input type="hidden" name="next" value="${next}">
<label for="user">User</label>
<select id="user" name="user">${store.users.filter((u) => u.kind === 'person').map((u) => html`<option value="${u.id}">${u.id} — ${u.name}</option>`)}</select>
<button type="submit">Sign in</button>
</form>`;
    return reply.type('text/html; charset=utf-8').send(renderPage({ site: options.site, title: 'Sign in', who: null, main }));
  });

  app.post<{ Body: Record<string, string> | undefined }>('/login', async (request, reply) => {
    const userId = request.body?.user;
    if (typeof userId !== 'string' || store.user(userId)?.kind !== 'person') return sendError(reply, 'payload_invalid', 'user: alice or bob');
    const session = store.createSession(tool, userId);
    return reply
      .header('set-cookie', `${cookieName}=${session}; Path=/; HttpOnly; SameSite=Lax`)
      .redirect(safeNext(request.body?.next), 303);
  });

  app.post('/logout', async (request, reply) => {
    const session = parseCookies(request.headers.cookie).get(cookieName);
    if (session) store.deleteSession(session);
    return reply.header('set-cookie', `${cookieName}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`).redirect('/login', 303);
  });
}

/** For pages: the caller, or a redirect to the sign-in page (then returns undefined). */
export function pageAuth(request: FastifyRequest, reply: FastifyReply): DemoAuth | undefined {
  if (request.demoAuth) return request.demoAuth;
  void reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
  return undefined;
}

/** How a caller is named in a page header. */
export function displayName(auth: DemoAuth): string {
  return auth.agent ? `${auth.agent.name} (${auth.agent.id})` : auth.principal.id;
}
