// A content script's proposal for a forum reply on the demo forum, shared by the background's tests. Tests only.
import type { ProposalInput } from '@/lib/messaging/contract';

export const FORUM_PAGE = 'http://127.0.0.1:8080/t/1';

export const forumReplyProposal: ProposalInput = {
  kind: 'fetch',
  request: { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/1/replies', contentType: 'application/json', body: '{"body":"Try revoking the group grant.","author_kind":"assistant"}' },
  content: 'Try revoking the group grant.',
  signals: ['assistant-marker'],
  agentHint: 'agent:forum-helper',
  diff: { kind: 'text', before: null, after: 'Try revoking the group grant.' },
};
