// Policy bots, the verifier's side (DESIGN.md, "Policy bots, quorum, batch review"): the bot whose
// unexpired rule covers an action signs its approval at once (`iss` = `sub` = `policy-bot:<name>`),
// unless a kill switch covers that bot, the agent or the site; the approval plan a held action asks
// for (how many people it needs, whether their presence, or the bot's token); and what bots approved today. Node only.
import type { ActionRequest, ApprovalPlan, ApprovalPlanRequest, BotApproval, BotApprovalRecord, EnrolledKey } from '../lib/protocol';
import { BotApprovalRecord as BotApprovalRecordSchema, MAX_APPROVAL_TTL_SECONDS, PROPOSAL_LIMITS, mintApprovalToken, policyBotId, policyBotName } from '../lib/protocol';
import type { VerifierContext } from './context';
import type { AgentEntry } from './policy/engine';
import { readProposedAction } from './proposal-action';
import type { ProposedAction } from './proposal-action';
import { activeBotSigner } from './store/bot-keys';
import { agentLookup } from './store/agents';
import { killLookup } from './store/kills';
import { currentOrganisationPolicy } from './store/organisation-policy';
import { approveAtOnce, insertProposal, pendingRow, stepFacts } from './store/proposals';

const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60_000;
/** Bot approvals one user's held actions may get a minute: far above a person's pace, a stop for a runaway page. */
export const BOT_APPROVALS_PER_MINUTE = 30;

/** The lifetime of a pending proposal, and of the tokens approving it: the policy TTL in force. */
export async function policyTtlSeconds(ctx: VerifierContext): Promise<number> {
  const organisation = (await currentOrganisationPolicy(ctx.database.db)).policy.approvalTtlSeconds;
  return Math.min(organisation ?? ctx.verifyDeps.approvalTtlSeconds, ctx.verifyDeps.approvalTtlSeconds, MAX_APPROVAL_TTL_SECONDS);
}

export interface BotApprovalFor extends BotApproval {
  /** `policy-bot:<name>`. */
  id: string;
  kid: string;
}

/**
 * The first bot (in the policy's order) whose unexpired rule covers the action and whom no kill
 * switch covers, with its token over exactly `request`; undefined when none may.
 */
export async function botApproval(
  ctx: VerifierContext,
  input: { request: ActionRequest; action: ProposedAction; agentId: string; agent: AgentEntry | undefined; scope: string; traceId: string },
): Promise<BotApprovalFor | undefined> {
  const policy = ctx.policy();
  const now = ctx.now();
  const kills = killLookup(ctx.database);
  // A bot cannot be present: where policy asks for the person's presence, no bot approves.
  if (policy.bots.length > 0 && policy.presence({ agt: input.agentId, scp: input.scope, site: input.action.site, agent: input.agent, facts: input.action.facts }) === 'uv') return undefined;
  for (const name of policy.bots) {
    const sub = policyBotId(name);
    const question = { sub, agt: input.agentId, scp: input.scope, site: input.action.site, agent: input.agent, facts: input.action.facts, now };
    if (policy.decide(question) !== undefined) continue;
    const rule = policy.botRule(question);
    if (rule === undefined) continue;
    if ((await kills({ sub, agt: input.agentId, scp: input.scope, site: input.action.site })).some((k) => k.engaged)) continue;
    const signer = await activeBotSigner(ctx.database.db, name, now);
    const { token } = await mintApprovalToken({
      privateKey: signer.privateKey,
      kid: signer.kid,
      deviceId: signer.id,
      userId: signer.id,
      request: input.request,
      agent: input.agentId,
      scope: input.scope,
      traceId: input.traceId,
      ttlSeconds: await policyTtlSeconds(ctx),
      now: Math.floor(now / 1000),
    });
    return { bot: name, rule, token, id: signer.id, kid: signer.kid };
  }
  return undefined;
}

/**
 * What a held in-page action needs: the distinct people policy requires, and when that is one and
 * a bot's rule covers it, the bot's token — kept as an approved proposal published by this device's
 * user, with its decision record naming the rule, so it is listed among the bots' approvals.
 */
export async function approvalPlan(ctx: VerifierContext, device: EnrolledKey, body: ApprovalPlanRequest): Promise<ApprovalPlan> {
  const action = await readProposedAction(body.request, body.contentField);
  const agent = await agentLookup(ctx.database)(body.agent);
  const question = { agt: body.agent, scp: body.scope, site: action.site, agent, facts: action.facts };
  const quorum = ctx.policy().quorum(question);
  const presence = ctx.policy().presence(question);
  if (quorum > 1 || presence === 'uv') return { quorum, presence };
  const now = ctx.now();
  const recent = await ctx.database.db
    .selectFrom('proposals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('published_by', '=', device.userId)
    .where('decided_by', 'like', 'policy-bot:%')
    .where('created_at', '>', now - MINUTE_MS)
    .executeTakeFirst();
  // Over the limit the action simply needs a person, as if no rule covered it.
  if (Number(recent?.n ?? 0) >= BOT_APPROVALS_PER_MINUTE) return { quorum, presence };
  const bot = await botApproval(ctx, { request: body.request, action, agentId: body.agent, agent, scope: body.scope, traceId: body.traceId });
  if (!bot) return { quorum, presence };
  const policy = ctx.policy();
  const row = pendingRow({
    agentId: body.agent,
    keyId: `device:${device.kid}`,
    scope: body.scope,
    summary: `${action.facts.method} ${action.facts.path}`,
    request: body.request,
    contentField: body.contentField ?? null,
    digest: action.digest,
    site: action.site,
    createdAt: now,
    expiresAt: now + (await policyTtlSeconds(ctx)) * 1000,
    traceId: body.traceId,
    publishedBy: { userId: device.userId, deviceId: device.deviceId },
  });
  await ctx.database.db.transaction().execute(async (trx) => {
    await insertProposal(trx, row, []);
    await approveAtOnce(trx, row, { user_id: bot.id, device_id: bot.id, kid: bot.kid, token: bot.token }, { ...stepFacts(row, 'approved', policy.version, bot.id, bot.kid), rule: bot.rule }, now);
  });
  return { quorum, presence, bot: { bot: bot.bot, rule: bot.rule, token: bot.token } };
}

/** What the bots approved in the last 24 hours of this user's agents and own held actions, newest first. */
export async function botApprovalsFor(ctx: VerifierContext, device: EnrolledKey): Promise<BotApprovalRecord[]> {
  const since = ctx.now() - DAY_MS;
  const rows = await ctx.database.db
    .selectFrom('proposals as p')
    .innerJoin('decisions as d', (join) => join.onRef('d.trace_id', '=', 'p.trace_id').onRef('d.approver', '=', 'p.decided_by').on('d.code', '=', 'approved'))
    .select(['p.decided_by', 'd.rule', 'p.agent_id', 'p.scope', 'p.site', 'p.digest', 'p.trace_id', 'p.decided_at'])
    .where('p.decided_by', 'like', 'policy-bot:%')
    .where('p.decided_at', '>', since)
    .where((eb) => eb.or([eb('p.published_by', '=', device.userId), eb('p.agent_id', 'in', eb.selectFrom('agents').select('agent_id').where('owner', '=', device.userId))]))
    .orderBy('p.decided_at', 'desc')
    .limit(PROPOSAL_LIMITS.list)
    .execute();
  return rows.flatMap((r) => {
    const record = BotApprovalRecordSchema.safeParse({
      bot: policyBotName(r.decided_by ?? ''),
      rule: r.rule,
      agent: r.agent_id,
      scope: r.scope,
      site: r.site,
      digest: r.digest,
      traceId: r.trace_id,
      at: Math.floor(Number(r.decided_at) / 1000),
    });
    return record.success ? [record.data] : [];
  });
}
