// The MCP server's configuration from its environment, parsed with zod: the verifier, the agent key,
// the tool origins it may call and the agent's credentials at those tools. A missing or bad variable
// is named (never its value) and the server does not start. Node only.
import { z } from 'zod';

export interface McpConfig {
  verifierUrl: string;
  agentKey: string;
  /** Origins (scheme://host:port) whose URLs may be proposed; anything else is refused. */
  toolOrigins: Set<string>;
  /** Per tool origin, headers that authenticate the agent there (an agent key of the tool's own). */
  toolHeaders: Map<string, Record<string, string>>;
  /** The longest one `await_approval` call waits before answering "still pending". */
  maxWaitSeconds: number;
  /** The most bytes of a tool's answer handed to the model. */
  answerBytes: number;
}

export const MCP_ENV = {
  verifier: 'COUNTERSIGN_VERIFIER_URL',
  agentKey: 'COUNTERSIGN_AGENT_KEY',
  origins: 'COUNTERSIGN_TOOL_ORIGINS',
  headers: 'COUNTERSIGN_TOOL_HEADERS',
  maxWait: 'COUNTERSIGN_MCP_MAX_WAIT_SECONDS',
  answerBytes: 'COUNTERSIGN_MCP_ANSWER_BYTES',
} as const;

/** An http(s) URL's origin, as `new URL().origin` spells it. */
const Origin = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
    } catch {
      return false;
    }
  }, 'an http(s) origin such as http://localhost:8081 (no path)')
  .transform((value) => new URL(value).origin);

const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'a header name');
const Reserved = new Set(['content-type', 'countersign-approval', 'content-length', 'host']);

const Env = z.object({
  [MCP_ENV.verifier]: z.url({ protocol: /^https?$/, error: 'the verifier URL, e.g. http://127.0.0.1:8787' }),
  [MCP_ENV.agentKey]: z.string({ error: 'the agent key (csa_…) an admin made with `npm run admin`' }).min(1, 'the agent key (csa_…)'),
  [MCP_ENV.origins]: z
    .string({ error: 'a comma-separated list of tool origins the agent may act on' })
    .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(Origin).min(1, 'at least one tool origin')),
  [MCP_ENV.headers]: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return {};
      try {
        return JSON.parse(value) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'JSON: {"<origin>": {"<header>": "<value>"}}' });
        return z.NEVER;
      }
    })
    .pipe(
      z.record(
        Origin,
        z.record(HeaderName, z.string().min(1)).refine((h) => Object.keys(h).every((n) => !Reserved.has(n.toLowerCase())), 'Content-Type and Countersign-Approval come from the proposal'),
      ),
    ),
  [MCP_ENV.maxWait]: z.coerce.number().int().min(1).max(3600).default(300),
  [MCP_ENV.answerBytes]: z.coerce.number().int().min(256).max(1024 * 1024).default(16 * 1024),
});

export class McpConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpConfigError';
  }
}

export function readMcpConfig(env: Record<string, string | undefined>): McpConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    // The variable and what it must be; never the value, which may be a key.
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new McpConfigError(`countersign mcp: bad environment\n  ${lines.join('\n  ')}`);
  }
  const data = parsed.data;
  const toolOrigins = new Set(data[MCP_ENV.origins]);
  const toolHeaders = new Map(Object.entries(data[MCP_ENV.headers]));
  for (const origin of toolHeaders.keys()) {
    if (!toolOrigins.has(origin)) throw new McpConfigError(`countersign mcp: ${MCP_ENV.headers}: ${origin} is not in ${MCP_ENV.origins}`);
  }
  return {
    verifierUrl: data[MCP_ENV.verifier],
    agentKey: data[MCP_ENV.agentKey],
    toolOrigins,
    toolHeaders,
    maxWaitSeconds: data[MCP_ENV.maxWait],
    answerBytes: data[MCP_ENV.answerBytes],
  };
}
