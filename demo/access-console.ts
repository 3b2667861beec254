// The Access console: who may read which dataset. Its access route requires a countersigned approval
// from everybody ("always", declared on the Fastify route), and each applied change is recorded with
// its receipt. Node only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { countersignFastify } from '../server/middleware';
import { authOf, displayName, pageAuth, principalOf, registerAuth } from './auth';
import { CONSOLE_SITE, renderDataset, renderDatasetList } from './console-pages';
import type { ToolOptions } from './forum';
import { createToolApp, sendError } from './http';
import { CONSOLE_ROUTES, MARKERS, protectionOf } from './protection';

export const AccessInput = z.strictObject({
  visibility: z.enum(['team-only', 'all-employees']),
  groups: z.array(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a group name: lower-case letters, digits, . _ -')).max(50),
});

type DatasetParams = { Params: { id: string } };

export async function buildAccessConsole(options: ToolOptions): Promise<FastifyInstance> {
  const { store } = options;
  const app = createToolApp();
  // First: its onRoute hook must see every protected route.
  await app.register(countersignFastify, { origin: options.origin, markers: MARKERS, verifier: options.verifier, principal: principalOf });
  registerAuth(app, { store, tool: 'console', site: CONSOLE_SITE, cookieName: 'access_console_session' });

  // ---- JSON API ----

  app.get('/api/datasets', async () => ({ datasets: store.listDatasets() }));

  app.get<DatasetParams>('/api/datasets/:id/access', async (request, reply) => {
    const access = store.datasetAccess(request.params.id);
    if (!access) return sendError(reply, 'not_found', 'no such dataset');
    return access;
  });

  app.put<DatasetParams>('/api/datasets/:id/access', {
    config: { countersign: protectionOf(CONSOLE_ROUTES, 'PUT', '/api/datasets/:id/access') },
    // Runs after the middleware's parse and before it asks the verifier: an invalid change never consumes an approval.
    preValidation: async (request: FastifyRequest<DatasetParams>, reply: FastifyReply) => {
      if (!store.datasetAccess(request.params.id)) return sendError(reply, 'not_found', 'no such dataset');
      const input = AccessInput.safeParse(request.body);
      if (!input.success) {
        const issue = input.error.issues[0]!;
        return sendError(reply, 'payload_invalid', `${issue.path.join('.') || 'body'}: ${issue.message}`);
      }
    },
    handler: async (request, reply) => {
      const auth = authOf(request);
      // Defence in depth: the route is "always", so no change is applied without a receipt.
      if (!request.countersign) return sendError(reply, 'token_missing', 'admin.acl.write needs a countersigned approval');
      const access = AccessInput.parse(request.body);
      store.setDatasetAccess(request.params.id, access, { changedBy: auth.principal.id, receipt: request.countersign.receipt, traceId: request.countersign.traceId });
      return store.datasetAccess(request.params.id);
    },
  });

  // ---- pages ----

  app.get('/', async (request, reply) => {
    const auth = pageAuth(request, reply);
    if (!auth) return reply;
    return reply.type('text/html; charset=utf-8').send(renderDatasetList(store.listDatasets(), displayName(auth)));
  });

  app.get<DatasetParams>('/datasets/:id', async (request, reply) => {
    const auth = pageAuth(request, reply);
    if (!auth) return reply;
    const dataset = store.getDataset(request.params.id);
    if (!dataset) return sendError(reply, 'not_found', 'no such dataset');
    return reply.type('text/html; charset=utf-8').send(renderDataset(dataset, store.accessHistory(dataset.id), displayName(auth)));
  });

  return app;
}
