// Intraforum: a small discussion forum whose reply route is protected by the Countersign middleware
// (declared on the Fastify route itself, so Fastify's router decides what runs), and which stores and
// renders each approved post's receipt. Node only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { VerifierClient } from '../server/middleware';
import { countersignFastify } from '../server/middleware';
import { authOf, displayName, pageAuth, principalOf, registerAuth } from './auth';
import { createToolApp, sendError, wantsHtml } from './http';
import { FORUM_ROUTES, MARKERS, protectionOf } from './protection';
import { FORUM_SITE, renderAuthors, renderTopic, renderTopicList } from './forum-pages';
import type { DemoStore } from './store';

export interface ToolOptions {
  store: DemoStore;
  verifier: VerifierClient;
  /** The tool's public origin (or every origin it answers to): approval tokens are bound to it (`aud`, and the request URL). */
  origin: string | string[];
}

export const MAX_REPLY_LENGTH = 10_000;

/**
 * A reply, from the widget's JSON or the HTML form, as the middleware parsed it: a form field sent
 * twice is an array, so `author_kind=person&author_kind=assistant` is refused here, never read as one
 * of its values.
 */
const ReplyInput = z.object({
  body: z
    .string()
    .max(MAX_REPLY_LENGTH)
    .refine((s) => s.trim().length > 0, 'must not be blank'),
  author_kind: z.enum(['person', 'assistant']).optional(),
});

type TopicParams = { Params: { id: string } };

function topicId(raw: string): number | undefined {
  return /^[1-9]\d{0,8}$/.test(raw) ? Number(raw) : undefined;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'body'}: ${issue.message}`;
}

export async function buildForum(options: ToolOptions): Promise<FastifyInstance> {
  const { store } = options;
  const app = createToolApp();
  // First: its onRoute hook must see every protected route.
  await app.register(countersignFastify, { origin: options.origin, markers: MARKERS, verifier: options.verifier, principal: principalOf });
  registerAuth(app, { store, tool: 'forum', site: FORUM_SITE, cookieName: 'intraforum_session' });

  // ---- JSON API ----

  app.get('/api/topics', async () => ({ topics: store.listTopics() }));

  app.get<TopicParams>('/api/topics/:id', async (request, reply) => {
    const id = topicId(request.params.id);
    const topic = id === undefined ? undefined : store.getTopic(id);
    if (!topic) return sendError(reply, 'not_found', 'no such topic');
    return { topic, replies: store.listReplies(topic.id) };
  });

  app.post<TopicParams>('/api/topics/:id/replies', {
    config: { countersign: protectionOf(FORUM_ROUTES, 'POST', '/api/topics/:id/replies') },
    // Runs after the middleware's parse and before it asks the verifier: a request that cannot be
    // executed never consumes anyone's approval.
    preValidation: async (request: FastifyRequest<TopicParams>, reply: FastifyReply) => {
      const id = topicId(request.params.id);
      if (id === undefined || !store.getTopic(id)) return sendError(reply, 'not_found', 'no such topic');
      const input = ReplyInput.safeParse(request.body);
      if (!input.success) return sendError(reply, 'payload_invalid', firstIssue(input.error));
    },
    handler: async (request, reply) => {
      const auth = authOf(request);
      const id = topicId(request.params.id)!;
      const input = ReplyInput.parse(request.body);
      // The same markers the middleware looked for (header present, or the body field's value).
      const marked = request.headers['x-assistant'] !== undefined || input.author_kind === 'assistant';
      const kind = auth.principal.kind === 'agent' || marked ? 'assistant' : 'person';
      // Defence in depth: an assistant's post is never stored without the approval's receipt.
      if (kind === 'assistant' && !request.countersign) return sendError(reply, 'token_missing', 'forum.post needs a countersigned approval');
      const saved = store.addReply(id, {
        author: auth.userId ?? auth.principal.id,
        kind,
        body: input.body,
        receipt: request.countersign?.receipt ?? null,
        traceId: request.countersign?.traceId ?? null,
      });
      if (wantsHtml(request)) return reply.redirect(`/t/${id}#post-${saved.id}`, 303);
      return reply.code(201).send({ reply: saved });
    },
  });

  // ---- pages ----

  app.get('/', async (request, reply) => {
    const auth = pageAuth(request, reply);
    if (!auth) return reply;
    return reply.type('text/html; charset=utf-8').send(renderTopicList(store.listTopics(), displayName(auth)));
  });

  app.get<TopicParams>('/t/:id', async (request, reply) => {
    const auth = pageAuth(request, reply);
    if (!auth) return reply;
    const id = topicId(request.params.id);
    const topic = id === undefined ? undefined : store.getTopic(id);
    if (!topic) return sendError(reply, 'not_found', 'no such topic');
    return reply.type('text/html; charset=utf-8').send(renderTopic(topic, store.listReplies(topic.id), store.users, displayName(auth)));
  });

  app.get('/authors', async (request, reply) => {
    const auth = pageAuth(request, reply);
    if (!auth) return reply;
    return reply.type('text/html; charset=utf-8').send(renderAuthors(store.users, displayName(auth)));
  });

  return app;
}
