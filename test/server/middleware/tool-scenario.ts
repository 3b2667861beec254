// A shared scenario for middleware tests: a tool's protected routes, its principals, and the
// requests an agent and a person send. Node only (tests).
import type { Principal } from '@/lib/protocol';
import type { MiddlewareOptions, ProtectedRoute } from '../../../server/middleware';

export const TOOL_ORIGIN = 'http://127.0.0.1:8080';

export const ROUTES: ProtectedRoute[] = [
  { method: 'POST', path: '/api/topics/*/replies', scope: 'forum.post', content: '/body' },
  { method: 'PUT', path: '/api/datasets/:id/access', scope: 'admin.acl.write', requires: 'always' },
];

export const MARKERS: MiddlewareOptions['markers'] = { headers: ['X-Assistant'], fields: { author_kind: 'assistant' } };

/** How the demo tools tell people from agents: an agent key header, else a session user. */
export function principalFrom(headers: Record<string, string | string[] | undefined>): Principal {
  const agentKey = headers['x-agent-key'];
  if (agentKey === 'forum-helper-key') return { kind: 'agent', id: 'agent:forum-helper' };
  const user = headers['x-user'];
  return { kind: 'user', id: typeof user === 'string' ? user : 'anonymous' };
}

export const REPLY_BODY = '{"body":"Try revoking the group grant."}';
export const ACCESS_BODY = '{"visibility":"all-employees"}';
