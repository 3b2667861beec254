// The Countersign MCP server's two tools on the official SDK: `propose_http_action` (an exact HTTP
// request on an allowed tool origin becomes a proposal for the agent's owner) and `await_approval`
// (waits for the decision; approved: executes the remembered request with the token and answers the
// tool's status and text). The model never sees the token, the agent key or a tool credential: every
// text out is scrubbed of them too. Node only.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { VerifierRefusal, createAgentClient, DecisionTimeout, VerifierUnreachable, UnexpectedAnswer } from '../../lib/agent';
import type { AgentClient, Decision } from '../../lib/agent';
import { Identifier, PROPOSAL_LIMITS, ProposalId, policyBotName } from '../../lib/protocol';
import type { ActionRequest } from '../../lib/protocol';
import type { McpConfig } from './config';

export const MCP_SERVER_NAME = 'countersign';

interface Remembered {
  request: ActionRequest;
  expiresAt: number;
}

export interface CountersignMcpOptions {
  config: McpConfig;
  /** Default: a client of config.verifierUrl with config.agentKey. */
  client?: AgentClient;
  version?: string;
}

const ProposeInput = {
  method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']).describe('The HTTP method of the change'),
  url: z.string().min(1).max(8192).describe('The absolute URL on one of the allowed tool origins'),
  body: z.string().max(1024 * 1024).optional().describe('The request body exactly as it will be sent (JSON as text)'),
  contentType: z.string().max(1024).optional().describe('Its Content-Type; default application/json when there is a body'),
  scope: Identifier.describe("The tool route's scope, e.g. admin.acl.write or forum.post"),
  summary: z.string().min(1).max(PROPOSAL_LIMITS.summary).describe('One or two sentences for the person who approves: what and why'),
  contentField: z.string().min(1).max(256).optional().describe("For a post: the route's content field (form name or JSON pointer)"),
};

const AwaitInput = {
  proposalId: ProposalId.describe('The id propose_http_action answered'),
  waitSeconds: z.number().int().min(1).max(3600).optional().describe('How long to wait for the decision in this call; it answers "pending" after that and can be called again'),
};

/** Who approved, as the model is told: a person's id, or `policy <name>` for a policy bot's rule. */
function approvedBy(approvers: readonly string[]): string[] {
  return approvers.map((a) => {
    const bot = policyBotName(a);
    return bot === null ? a : `policy ${bot}`;
  });
}

/** Reads at most `limit` bytes of an answer as text, and says whether there was more. */
async function cappedText(response: Response, limit: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = limit - size;
    if (value.byteLength > room) {
      chunks.push(value.subarray(0, room));
      size += room;
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  // A cut through a multi-byte character decodes as U+FFFD, never as an error.
  return { text: new TextDecoder('utf-8', { fatal: false }).decode(bytes), truncated };
}

export function createCountersignMcp(options: CountersignMcpOptions): McpServer {
  const { config } = options;
  const client = options.client ?? createAgentClient({ verifier: config.verifierUrl, agentKey: config.agentKey });
  const remembered = new Map<string, Remembered>();
  const inFlight = new Map<string, Promise<CallToolResult>>();
  // Everything that must never reach the model; tokens join as they are handed out.
  const secrets = new Set<string>([config.agentKey, ...[...config.toolHeaders.values()].flatMap((h) => Object.values(h))]);
  const scrub = (text: string): string => {
    let out = text;
    for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
    return out;
  };
  const answer = (value: Record<string, unknown>): CallToolResult => ({ content: [{ type: 'text', text: scrub(JSON.stringify(value, null, 2)) }] });
  const failure = (message: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text: scrub(message) }] });
  const explain = (error: unknown): CallToolResult => {
    if (error instanceof VerifierRefusal) return failure(`refused by the verifier: ${error.code} (HTTP ${error.status}): ${error.message}${error.traceId ? ` [trace ${error.traceId}]` : ''}`);
    if (error instanceof VerifierUnreachable || error instanceof UnexpectedAnswer) return failure(error.message);
    if (error instanceof TypeError) return failure(`invalid: ${error.message}`);
    return failure('the Countersign MCP server failed; see its log');
  };

  const server = new McpServer({ name: MCP_SERVER_NAME, version: options.version ?? '0.1.0' });

  server.registerTool(
    'propose_http_action',
    {
      title: 'Propose an HTTP action for human approval',
      description:
        `Proposes one exact HTTP request (a change) on an internal tool. It is not sent now: the agent's owner reviews it and approves or rejects it. Then call await_approval with the proposal id; only an approved request is executed, exactly as proposed. Allowed origins: ${[...config.toolOrigins].join(', ')}.`,
      inputSchema: ProposeInput,
    },
    async (input) => {
      let url: URL;
      try {
        url = new URL(input.url);
      } catch {
        return failure('url: not an absolute URL');
      }
      if (!config.toolOrigins.has(url.origin)) return failure(`url: ${url.origin} is not an allowed tool origin (allowed: ${[...config.toolOrigins].join(', ')})`);
      const request: ActionRequest = {
        method: input.method,
        url: url.href,
        contentType: input.contentType ?? (input.body !== undefined ? 'application/json' : null),
        body: input.body ?? null,
      };
      try {
        const created = await client.propose({ request, scope: input.scope, summary: input.summary, ...(input.contentField ? { contentField: input.contentField } : {}) });
        // What expired long ago is forgotten, so the memory stays bounded by the rate limit.
        const stale = Math.floor(Date.now() / 1000) - 3600;
        for (const [id, kept] of remembered) if (kept.expiresAt < stale && !inFlight.has(id)) remembered.delete(id);
        remembered.set(created.id, { request, expiresAt: created.expiresAt });
        return answer({
          proposalId: created.id,
          state: created.state,
          expiresAt: new Date(created.expiresAt * 1000).toISOString(),
          traceId: created.traceId,
          next:
            created.state === 'approved'
              ? 'Already approved by policy: call await_approval with this proposalId to execute it. Nothing has been sent to the tool yet.'
              : 'Call await_approval with this proposalId. Nothing has been sent to the tool yet.',
        });
      } catch (error) {
        return explain(error);
      }
    },
  );

  const settle = async (id: string, entry: Remembered, waitSeconds: number): Promise<CallToolResult> => {
    let decision: Decision;
    try {
      decision = await client.waitForDecision(id, { timeoutMs: waitSeconds * 1000 });
    } catch (error) {
      if (error instanceof DecisionTimeout) {
        return answer({ proposalId: id, state: 'pending', expiresAt: new Date(entry.expiresAt * 1000).toISOString(), next: 'Still waiting for the owner; call await_approval again.' });
      }
      return explain(error);
    }
    if (decision.state === 'rejected') {
      remembered.delete(id);
      return answer({ proposalId: id, state: 'rejected', reason: decision.reason, executed: false });
    }
    if (decision.state === 'expired') {
      remembered.delete(id);
      return answer({ proposalId: id, state: 'expired', executed: false, next: 'Nobody decided in time; propose again if it is still needed.' });
    }
    for (const token of decision.tokens) secrets.add(token);
    let response: Response;
    try {
      response = await client.execute(entry.request, decision.tokens, { headers: config.toolHeaders.get(new URL(entry.request.url).origin) ?? {} });
    } catch {
      // Kept: the request may not have left, and a second try of a consumed token is refused by the tool.
      return failure(`approved, but the tool at ${new URL(entry.request.url).origin} did not answer; call await_approval again to retry`);
    }
    remembered.delete(id);
    const { text, truncated } = await cappedText(response, config.answerBytes);
    return answer({
      proposalId: id,
      state: 'approved',
      approvedBy: approvedBy(decision.approvers),
      executed: true,
      request: `${entry.request.method} ${entry.request.url}`,
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: text,
      truncated,
    });
  };

  server.registerTool(
    'await_approval',
    {
      title: 'Wait for the owner to decide a proposal',
      description:
        'Waits for the decision on a proposal made with propose_http_action. Approved: the exact proposed request is executed and the tool\'s status and answer are returned. Rejected: the reason. Expired: nobody decided in time. Pending: call again.',
      inputSchema: AwaitInput,
    },
    async ({ proposalId, waitSeconds }) => {
      const entry = remembered.get(proposalId);
      if (!entry) return failure(`no pending proposal ${proposalId} was made through this server (or it is already settled)`);
      // Two calls for one proposal share one wait, so it executes at most once.
      let running = inFlight.get(proposalId);
      if (!running) {
        running = settle(proposalId, entry, Math.min(waitSeconds ?? config.maxWaitSeconds, config.maxWaitSeconds)).finally(() => inFlight.delete(proposalId));
        inFlight.set(proposalId, running);
      }
      return running;
    },
  );

  return server;
}
