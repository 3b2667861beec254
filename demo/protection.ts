// Which of the demo tools' requests need a countersignature: the middleware's route table and the
// assistant markers, in one place so tests can hold the built-in site adapters to them. Node only.
import type { AssistantMarkers, ProtectedRoute } from '../server/middleware';

/** The request header an assistant's page script (or an honest agent) sends. */
export const ASSISTANT_HEADER = 'X-Assistant';

export const MARKERS: AssistantMarkers = { headers: [ASSISTANT_HEADER], fields: { author_kind: 'assistant' } };

/**
 * `content: 'body'` rather than the JSON pointer `/body`: the core reads a plain name from the body's
 * fields, which hold a JSON body's top-level strings and a form's fields alike, so one route entry
 * gives the receipt its `cdg` for the widget's JSON post and for the HTML form's post. A pointer
 * would only ever read JSON.
 */
export const FORUM_ROUTES: ProtectedRoute[] = [{ method: 'POST', path: '/api/topics/*/replies', scope: 'forum.post', content: 'body' }];

/** Widening who can read data needs a signed, reviewed approval even for a person. */
export const CONSOLE_ROUTES: ProtectedRoute[] = [{ method: 'PUT', path: '/api/datasets/*/access', scope: 'admin.acl.write', requires: 'always' }];
