// Schemas of one action: the request as sent, who asks, the diff shown, the ActionSpec. Runtime-neutral.
import { z } from 'zod';

/** Upper bounds that keep any single field from becoming a memory or log problem. */
export const LIMITS = {
  /** An approval token, receipt or id string. */
  token: 8192,
  /** A request body carried inside a JSON message (1 MiB). */
  body: 1024 * 1024,
  url: 8192,
  id: 256,
} as const;

export const TraceId = z.string().regex(/^[0-9a-f]{32}$/, 'a W3C trace id: 32 lower-case hex digits');
export type TraceId = z.infer<typeof TraceId>;

/** base64url SHA-256: 43 characters. */
export const Digest = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'base64url SHA-256 (43 characters)');
export type Digest = z.infer<typeof Digest>;

export const Identifier = z.string().min(1).max(LIMITS.id);

/** Who asks the tool: a person, or an agent with credentials of its own. */
export const Principal = z.strictObject({
  kind: z.enum(['user', 'agent']),
  id: Identifier,
});
export type Principal = z.infer<typeof Principal>;

/** The `agt` a token must carry for this principal: the agent's id, or `user:<id>` for a person. */
export function principalAgentId(principal: Principal): string {
  return principal.kind === 'agent' ? principal.id : `user:${principal.id}`;
}

export const HttpMethod = z.string().regex(/^[A-Za-z]{1,16}$/, 'an HTTP method');

/** A side-effecting request as sent: body as the text sent, or null. */
export const ActionRequest = z.strictObject({
  method: HttpMethod,
  url: z.string().min(1).max(LIMITS.url),
  contentType: z.string().max(1024).nullable(),
  body: z.string().max(LIMITS.body).nullable(),
});
export type ActionRequest = z.infer<typeof ActionRequest>;

/** What changed: a post's text, or a config's fields before and after. */
export const Diff = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('text'), before: z.string().nullable(), after: z.string() }),
  z.strictObject({
    kind: z.literal('fields'),
    fields: z.array(z.strictObject({ name: z.string().max(LIMITS.id), before: z.json(), after: z.json() })).max(500),
  }),
]);
export type Diff = z.infer<typeof Diff>;

/** The signals that made the extension call a submission assistant-authored (DESIGN.md). */
export const AuthorshipSignal = z.enum([
  'assistant-marker',
  'untrusted-event',
  'no-user-activation',
  'scripted-content',
  'webdriver',
  'strict-mode',
]);
export type AuthorshipSignal = z.infer<typeof AuthorshipSignal>;

/**
 * A held submission as the content script proposes it to the background. The background adds
 * what only it may know (tab, owner, time) and never trusts the page for those.
 */
export const ActionSpec = z.strictObject({
  trc: TraceId,
  tool: Identifier,
  scope: Identifier,
  agent: Identifier,
  request: ActionRequest,
  content: z.string().max(LIMITS.body).nullable(),
  diff: Diff.nullable(),
  signals: z.array(AuthorshipSignal).max(AuthorshipSignal.options.length),
});
export type ActionSpec = z.infer<typeof ActionSpec>;
