// Several approvals of one request (DESIGN.md, "Policy bots, quorum, batch review"): how a request
// carries them (`Countersign-Approval: <t1>, <t2>`, or the form field repeated), their limit, and the
// ids policy bots approve under. Runtime-neutral, pure.
import { z } from 'zod';
import { LIMITS } from './action';
import { TokenRejected } from './errors';

export const QUORUM_LIMITS = {
  /** The most approvals policy may require, and the most tokens one request may carry. */
  maxApprovers: 5,
} as const;

/** A policy bot approves as `policy-bot:<name>` (`iss` and `sub`). */
export const POLICY_BOT_PREFIX = 'policy-bot:';

/** A bot's name: what an admin writes in `Bot::"<name>"`. */
export const PolicyBotName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, . _ - (at most 63)');
export type PolicyBotName = z.infer<typeof PolicyBotName>;

export function policyBotId(name: string): string {
  return `${POLICY_BOT_PREFIX}${name}`;
}

/** The bot's name when `id` is a policy bot's, else null. */
export function policyBotName(id: string): string | null {
  if (!id.startsWith(POLICY_BOT_PREFIX)) return null;
  const name = id.slice(POLICY_BOT_PREFIX.length);
  return PolicyBotName.safeParse(name).success ? name : null;
}

/** The tokens a request carries, as the tool receives them: one list, whatever the spelling. */
export const ApprovalTokens = z.array(z.string().min(1).max(LIMITS.token)).min(1).max(QUORUM_LIMITS.maxApprovers);
export type ApprovalTokens = z.infer<typeof ApprovalTokens>;

/**
 * The tokens of one or more `Countersign-Approval` header values (Node joins a repeated header with
 * ", "): comma-separated, optional white space around each. A token never holds a comma or a space,
 * so this split cannot cut one. An empty element, or more than the limit, is `token_malformed`.
 */
export function splitApprovalTokens(values: string | readonly string[] | undefined): string[] {
  if (values === undefined) return [];
  const tokens = (typeof values === 'string' ? [values] : values).flatMap((v) => v.split(',')).map((t) => t.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (tokens.some((t) => t.length === 0)) throw new TokenRejected('token_malformed', 'an empty approval in the list');
  if (tokens.length > QUORUM_LIMITS.maxApprovers) throw new TokenRejected('token_malformed', `more than ${QUORUM_LIMITS.maxApprovers} approvals`);
  return tokens;
}

/** The header value that carries these tokens. */
export function joinApprovalTokens(tokens: readonly string[]): string {
  return tokens.join(', ');
}
