// Which of the demo tools' requests need a countersignature, as data: the routes (method, path,
// scope, requires, content) and the assistant markers, in one place so tests can hold the demo site
// adapters to them. The tools declare each route's protection on their own Fastify route from this
// data (`protectionOf`), so Fastify's router decides what runs. Node only.
import type { AssistantMarkers, ProtectedRoute, RouteProtection } from '../server/middleware';

/** The request header an assistant's page script (or an honest agent) sends. */
export const ASSISTANT_HEADER = 'X-Assistant';

export const MARKERS: AssistantMarkers = { headers: [ASSISTANT_HEADER], fields: { author_kind: 'assistant' } };

/**
 * `content: 'body'`: a field name, which the protocol reads from a JSON body's top level and from a
 * form alike, so one entry gives the receipt its `cdg` for the widget's JSON post and for the HTML
 * form's post.
 */
export const FORUM_ROUTES: ProtectedRoute[] = [{ method: 'POST', path: '/api/topics/*/replies', scope: 'forum.post', content: 'body' }];

/** Widening who can read data needs a signed, reviewed approval even for a person. */
export const CONSOLE_ROUTES: ProtectedRoute[] = [{ method: 'PUT', path: '/api/datasets/*/access', scope: 'admin.acl.write', requires: 'always' }];

/**
 * The protection of the Fastify route `method url` (`/api/topics/:id/replies`), from the table whose
 * pattern names the same route (`:name` and `*` both one segment). Throws when the table has none, so
 * the data and the routes cannot drift apart.
 */
export function protectionOf(routes: readonly ProtectedRoute[], method: string, url: string): RouteProtection {
  const shape = (path: string) => path.replace(/\/(\*|:[^/]+)/g, '/*');
  const route = routes.find((r) => r.method === method && shape(r.path) === shape(url));
  if (!route) throw new Error(`demo: no protected route ${method} ${url} in the table`);
  return { scope: route.scope, ...(route.requires ? { requires: route.requires } : {}), ...(route.content ? { content: route.content } : {}) };
}
