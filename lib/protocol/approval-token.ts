// Approval tokens: claims schema, minting with a device key, and the verifier's ordered checks. Runtime-neutral.
import { z } from 'zod';
import type { ActionRequest, Principal } from './action';
import { Digest, Identifier, LIMITS, TraceId, principalAgentId } from './action';
import { JWS_TYP, parseCompactJws, signCompactJws } from './compact-jws';
import type { ProtectedHeader } from './compact-jws';
import { enrolledSigner, signedPayload } from './device-signed';
import type { EnrolledKey, EnrolledKeyLookup } from './device-signed';
import { actionDigest, canonicalUrl } from './digest';
import { randomBase64url } from './encoding';
import { TokenRejected } from './errors';
import { WebAuthnAssertion } from './presence';
import { POLICY_BOT_PREFIX } from './quorum';
import { contentAt, readBodyFields } from './request-fields';

/** Clock skew allowed on `exp` and `iat` (seconds). */
export const CLOCK_SKEW_SECONDS = 30;
/** Default approval lifetime (seconds) when policy names none. */
export const DEFAULT_APPROVAL_TTL_SECONDS = 120;
/** The verifier refuses any lifetime over this, whatever the policy says. */
export const MAX_APPROVAL_TTL_SECONDS = 600;

const Seconds = z.int().min(0).max(2 ** 40);

export const ActionBinding = z.strictObject({
  dig: Digest,
  m: z.string().regex(/^[A-Z]{1,16}$/),
  u: z.string().min(1).max(LIMITS.url),
});
export type ActionBinding = z.infer<typeof ActionBinding>;

export const ApprovalClaims = z
  .strictObject({
    iss: Identifier,
    sub: Identifier,
    aud: z.string().min(1).max(LIMITS.url),
    jti: z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, 'at least 128 bits of base64url'),
    iat: Seconds,
    exp: Seconds,
    act: ActionBinding,
    agt: Identifier,
    scp: Identifier,
    trc: TraceId,
    /** The person's presence: a user-verified WebAuthn assertion over presenceChallenge(act.dig, jti, exp). */
    wa: WebAuthnAssertion.optional(),
  })
  .refine((c) => c.iat < c.exp, { message: 'iat must be before exp', path: ['exp'] });
export type ApprovalClaims = z.infer<typeof ApprovalClaims>;

export interface MintApprovalInput {
  privateKey: CryptoKey;
  kid: string;
  /** Device id (`iss`) and approving user (`sub`). */
  deviceId: string;
  userId: string;
  request: ActionRequest;
  agent: string;
  scope: string;
  traceId: string;
  ttlSeconds?: number;
  /** Seconds since 1970; defaults to the clock. */
  now?: number;
  /** The token's id, when fixed beforehand (an approval with presence: the assertion signs over it); random otherwise. */
  jti?: string;
  /** The assertion over presenceChallenge(dig, jti, exp) of exactly this token. */
  wa?: WebAuthnAssertion;
}

/** The `jti` and `exp` an approval minted now with `ttlSeconds` will carry: what its presence challenge covers. */
export function approvalDraft(input: { ttlSeconds?: number; now?: number }): { jti: string; iat: number; exp: number } {
  const iat = input.now ?? Math.floor(Date.now() / 1000);
  const ttl = input.ttlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_APPROVAL_TTL_SECONDS) throw new TypeError('ttlSeconds out of range');
  return { jti: randomBase64url(16), iat, exp: iat + ttl };
}

/** Signs an approval for exactly `request` (digest, method, URL), valid for `ttlSeconds`. */
export async function mintApprovalToken(input: MintApprovalInput): Promise<{ token: string; claims: ApprovalClaims }> {
  const iat = input.now ?? Math.floor(Date.now() / 1000);
  const ttl = input.ttlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_APPROVAL_TTL_SECONDS) throw new TypeError('ttlSeconds out of range');
  const url = canonicalUrl(input.request.url);
  const claims = ApprovalClaims.parse({
    iss: input.deviceId,
    sub: input.userId,
    aud: new URL(url).origin,
    jti: input.jti ?? randomBase64url(16),
    iat,
    exp: iat + ttl,
    act: { dig: await actionDigest(input.request), m: input.request.method.toUpperCase(), u: url },
    agt: input.agent,
    scp: input.scope,
    trc: input.traceId,
    ...(input.wa ? { wa: input.wa } : {}),
  });
  const token = await signCompactJws(input.privateKey, { typ: JWS_TYP.approval, kid: input.kid }, claims);
  return { token, claims };
}

/** What an action is, as policy rules (a bot's "low risk") judge it. */
export interface ActionFacts {
  method: string;
  /** The URL's path, e.g. "/t/42/posts". */
  path: string;
  /** The URL's query without "?", e.g. "topic=42". */
  query: string;
  /** Characters (code points, NFC) of the post's text when the route names a content field, else of the body as UTF-8 text. */
  chars: number;
}

/** The facts of `request`, its post's text being `content` (read from the same bytes) or null. */
export function actionFacts(request: { method: string; url: string; body: string | Uint8Array | null }, content: string | null): ActionFacts {
  const url = new URL(canonicalUrl(request.url));
  const text = content ?? (typeof request.body === 'string' ? request.body : request.body === null ? '' : new TextDecoder().decode(request.body));
  return { method: request.method.toUpperCase(), path: url.pathname, query: url.search.slice(1), chars: [...text.normalize('NFC')].length };
}

/** The request facts the policy decides on. */
export interface ApprovalQuestion {
  sub: string;
  agt: string;
  scp: string;
  /** The tool's origin (`aud`). */
  site: string;
  facts?: ActionFacts;
}

export type PolicyRefusal = 'approver_not_authorized' | 'self_approval' | 'site_blocked';

/** A kill-switch entry that covers a request; `since` in milliseconds. */
export interface KillCover {
  engaged: boolean;
  since: number;
}

export interface ApprovalVerifyContext {
  /** Exact-match key lookup by `kid`. */
  lookupKey: EnrolledKeyLookup;
  /** The request the tool actually received. */
  request: { method: string; url: string; contentType: string | null; body: string | Uint8Array | null };
  /** The scope of the route the request is on (from the tool's configuration): `scp` must equal it. */
  scope: string;
  /** The route's content field: the post's text is read from the request's body for the receipt (a repeated field is `payload_invalid`). */
  contentField?: string | undefined;
  /** The tool's requester; when given, `agt` must be its agent id (or `user:<id>`). */
  principal?: Principal;
  /** The request carries an assistant marker: with a person as principal, `agt` must name an assistant. */
  assisted?: boolean;
  /**
   * This token is one of several approvals of the request (a quorum): with a person as principal and
   * an assistant as `agt`, its signer need not be that person — the caller checks that one of the
   * set is (or that a policy bot signed).
   */
  coSigned?: boolean;
  /** Seconds since 1970. */
  now: number;
  /** The lifetime policy allows (≤ MAX_APPROVAL_TTL_SECONDS). */
  maxTtlSeconds?: number;
  /** Seconds since 1970; tokens issued before it are refused (a crash never reopens a consumed token). */
  bootEpoch?: number;
  /** Policy decision: undefined when allowed. */
  authorize(question: ApprovalQuestion): Promise<PolicyRefusal | undefined> | PolicyRefusal | undefined;
  /** Every kill that covers this request, engaged now or since lifted. */
  kills(question: ApprovalQuestion): Promise<KillCover[]> | KillCover[];
  /**
   * The person's presence (DESIGN.md, "User presence"): throws `presence_required` when policy asks
   * for it and the token carries no `wa`, `presence_invalid` when a `wa` fails a check. Called after
   * the kill switch and before `consume`; every verifier path must say how presence is judged.
   */
  presence(input: PresenceInput): Promise<void> | void;
  /**
   * Records `(iss, jti)` atomically; false when it was already there. Called last, only for a token
   * that passed every other check, with what was verified (for the decision record).
   */
  consume?(entry: ConsumeEntry): Promise<boolean> | boolean;
}

export interface PresenceInput {
  claims: ApprovalClaims;
  /** The digest of the request actually received (equal to `act.dig` by now): the challenge is recomputed from it. */
  digest: string;
  question: ApprovalQuestion;
  key: EnrolledKey;
}

export interface ConsumeEntry {
  iss: string;
  jti: string;
  /** Seconds: `exp` + skew, after which the entry may be forgotten. */
  expiresAt: number;
  claims: ApprovalClaims;
  digest: string;
  kid: string;
  /** The post's text at the route's content field, read from the digested bytes, or null. */
  content: string | null;
}

export interface VerifiedApproval {
  header: ProtectedHeader;
  claims: ApprovalClaims;
  key: EnrolledKey;
  digest: string;
  /** The post's text at the route's content field, or null. */
  content: string | null;
}

/**
 * Verifies an approval token against the request received, in DESIGN.md's order, so that a forged
 * token costs no database write. Throws `TokenRejected` (or `PayloadInvalid` for a body that claims
 * JSON and does not parse) carrying the first failing check's code.
 */
export async function verifyApprovalToken(token: unknown, ctx: ApprovalVerifyContext): Promise<VerifiedApproval> {
  const jws = parseCompactJws(token, JWS_TYP.approval);

  const key = await enrolledSigner(jws, ctx.lookupKey, {
    matches: (k) => k.userId === jws.payload.sub && k.deviceId === jws.payload.iss,
    message: 'kid is not a key of this approver and device',
  });
  const claims = signedPayload(ApprovalClaims, jws.payload, 'claim');
  // A policy bot signs only with its own keys, enrolled as the bot's own device; a person's device
  // enrolled under a bot's name is no bot.
  if (claims.sub.startsWith(POLICY_BOT_PREFIX) && claims.iss !== claims.sub) throw new TokenRejected('approver_not_authorized', 'a policy bot\'s approval is signed by the bot\'s own key');

  const maxTtl = Math.min(ctx.maxTtlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS, MAX_APPROVAL_TTL_SECONDS);
  if (ctx.now > claims.exp + CLOCK_SKEW_SECONDS) throw new TokenRejected('token_expired', 'token has expired');
  if (ctx.bootEpoch !== undefined && claims.iat < ctx.bootEpoch) {
    throw new TokenRejected('token_expired', 'token was issued before the verifier last started');
  }
  if (claims.iat > ctx.now + CLOCK_SKEW_SECONDS) throw new TokenRejected('token_not_yet_valid', 'token issued in the future');
  if (claims.exp - claims.iat > maxTtl) throw new TokenRejected('ttl_too_long', `lifetime over ${maxTtl} s`);

  const url = canonicalUrl(ctx.request.url);
  if (claims.aud !== new URL(url).origin) throw new TokenRejected('audience_mismatch', 'token is for another tool');

  const digest = await actionDigest(ctx.request);
  if (claims.act.dig !== digest || claims.act.m !== ctx.request.method.toUpperCase() || claims.act.u !== url) {
    throw new TokenRejected('action_mismatch', 'token approves a different request');
  }
  // The route decides what the request does: a token for forum.post is no token for admin.acl.write.
  if (claims.scp !== ctx.scope) throw new TokenRejected('action_mismatch', 'token approves another scope than this route\'s');
  // The text a receipt binds is read from the bytes that were digested, never taken from a caller.
  const content = ctx.contentField === undefined ? null : contentAt(await readBodyFields(ctx.request.contentType, ctx.request.body), ctx.contentField);
  if (ctx.principal) {
    // An agent's request names that agent. A person's request is the person's own (`user:<id>`),
    // or an assistant acting in their session, which only that same person can have signed.
    // A marked request says an assistant wrote it: the token must say so too (honest provenance).
    const own = claims.agt === principalAgentId(ctx.principal) && !(ctx.assisted && ctx.principal.kind === 'user');
    const assistantOfSigner =
      ctx.principal.kind === 'user' && !claims.agt.startsWith('user:') && (claims.sub === ctx.principal.id || ctx.coSigned === true || claims.sub.startsWith(POLICY_BOT_PREFIX));
    if (!own && !assistantOfSigner) throw new TokenRejected('action_mismatch', 'token approves another agent or was signed by someone else');
  }

  const question: ApprovalQuestion = { sub: claims.sub, agt: claims.agt, scp: claims.scp, site: claims.aud, facts: actionFacts(ctx.request, content) };
  if (claims.sub === claims.agt) throw new TokenRejected('self_approval', 'an agent cannot approve itself');
  const refusal = await ctx.authorize(question);
  if (refusal) throw new TokenRejected(refusal, policyMessage[refusal]);

  for (const kill of await ctx.kills(question)) {
    if (kill.engaged) throw new TokenRejected('kill_switch_engaged', 'a kill switch covers this request');
    if (claims.iat * 1000 <= kill.since) {
      throw new TokenRejected('kill_switch_engaged', 'token was issued before a kill switch that covered it');
    }
  }

  await ctx.presence({ claims, digest, question, key });

  if (ctx.consume) {
    const fresh = await ctx.consume({ iss: claims.iss, jti: claims.jti, expiresAt: claims.exp + CLOCK_SKEW_SECONDS, claims, digest, kid: key.kid, content });
    if (!fresh) throw new TokenRejected('replayed', 'token was already used');
  }
  return { header: jws.header, claims, key, digest, content };
}

const policyMessage: Record<PolicyRefusal, string> = {
  approver_not_authorized: 'approver may not approve this agent, scope or site',
  self_approval: 'an agent cannot approve itself',
  site_blocked: 'assistant actions are blocked on this site',
};
