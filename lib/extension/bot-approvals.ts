// A held action's plan applied (DESIGN.md, "Policy bots, quorum, batch review"): how many approvers it
// needs is kept on its row, and when a policy bot's rule covers it, it is approved at once with the
// bot's token (logged `approved`, naming the bot and the rule) and never shown as pending. The bot's
// token is checked against the row before anything is released: it must bind this very action.
// Background only; the claim check is pure.
import { decodeJwt } from 'jose';
import { ApprovalClaims, policyBotId } from '../protocol';
import type { ApprovalPlan, BotApproval } from '../protocol';
import type { PendingActionRow } from './db';
import { askPlan } from './approval-plan';
import type { PlanDeps } from './approval-plan';
import { moveAction, noteOnAction } from './held-actions';

/**
 * Why a bot's token cannot release this action, or null when it binds it: signed as the bot
 * (`iss` = `sub` = `policy-bot:<name>`), for this digest, agent, scope and trace. The signature is the
 * tool's verifier's to check; this only keeps a wrong token from being sent at all.
 */
export function botTokenProblem(row: Pick<PendingActionRow, 'digest' | 'spec'>, bot: BotApproval): string | null {
  let claims: ApprovalClaims;
  try {
    const parsed = ApprovalClaims.safeParse(decodeJwt(bot.token));
    if (!parsed.success) return 'the bot\'s token is off the protocol';
    claims = parsed.data;
  } catch {
    return 'the bot\'s token is not a token';
  }
  const id = policyBotId(bot.bot);
  if (claims.iss !== id || claims.sub !== id) return `the token is not ${id}'s`;
  if (claims.act.dig !== row.digest) return 'the bot\'s token approves another request';
  if (claims.agt !== row.spec.agent || claims.scp !== row.spec.scope || claims.trc !== row.spec.trc) return 'the bot\'s token is for another agent, scope or trace';
  return null;
}

/** What the plan does to a held row: a bot's approval (quorum 1 only), or its quorum noted. */
export type PlanOutcome = { kind: 'bot'; bot: BotApproval; quorum: number } | { kind: 'quorum'; quorum: number; note: string | null };

export function planOutcome(row: Pick<PendingActionRow, 'digest' | 'spec'>, plan: ApprovalPlan): PlanOutcome {
  if (!plan.bot || plan.quorum !== 1) return { kind: 'quorum', quorum: plan.quorum, note: null };
  const problem = botTokenProblem(row, plan.bot);
  return problem ? { kind: 'quorum', quorum: plan.quorum, note: problem } : { kind: 'bot', bot: plan.bot, quorum: 1 };
}

/**
 * Asks the plan of a held action and applies it. Returns the row approved by a bot (to release), the
 * row with its quorum noted, or null when the verifier did not answer (the plan stays unknown) or the
 * action is no longer held.
 */
export async function applyPlan(row: PendingActionRow, deps: PlanDeps & { now?: () => number } = {}): Promise<PendingActionRow | null> {
  if (row.state !== 'held' || row.quorum !== undefined) return null;
  const plan = await askPlan(row, deps);
  if (!plan) return null;
  const outcome = planOutcome(row, plan);
  if (outcome.kind === 'quorum') return noteOnAction(row.id, 'held', { quorum: outcome.quorum });
  const claims = decodeJwt(outcome.bot.token);
  const approver = policyBotId(outcome.bot.bot);
  return moveAction(
    row.id,
    'approve',
    { token: outcome.bot.token, tokens: [outcome.bot.token], approvers: [approver], bot: { bot: outcome.bot.bot, rule: outcome.bot.rule }, quorum: 1 },
    { approver, bot: outcome.bot.bot, rule: outcome.bot.rule, jti: String(claims.jti), exp: Number(claims.exp) },
    (deps.now ?? Date.now)(),
  );
}
