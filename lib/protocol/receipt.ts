// Provenance receipts: the verifier's signed statement that an action was approved. Runtime-neutral.
import { z } from 'zod';
import { Digest, Identifier, LIMITS, TraceId } from './action';
import { JWS_TYP, assertJwsSignature, parseCompactJws, signCompactJws } from './compact-jws';
import type { ProtectedHeader } from './compact-jws';
import { contentDigest } from './content';
import { randomBase64url } from './encoding';
import { TokenRejected } from './errors';
import { QUORUM_LIMITS } from './quorum';

export const ReceiptClaims = z.strictObject({
  iss: z.string().min(1).max(LIMITS.url),
  sub: Identifier,
  /** The approver: a person's user id, or `policy-bot:<name>`; the first of `apvs` under a quorum. */
  apv: Identifier,
  /** Every approver, in the order their tokens came, when policy required more than one. */
  apvs: z.array(Identifier).min(2).max(QUORUM_LIMITS.maxApprovers).optional(),
  trc: TraceId,
  act: Digest,
  pol: z.string().min(1).max(128),
  cdg: Digest.optional(),
  iat: z.int().min(0).max(2 ** 40),
  jti: z.string().regex(/^[A-Za-z0-9_-]{22,64}$/),
});
export type ReceiptClaims = z.infer<typeof ReceiptClaims>;

export interface MintReceiptInput {
  privateKey: CryptoKey;
  kid: string;
  issuer: string;
  agent: string;
  approver: string;
  /** Every approver when policy required more than one (`apvs`); `approver` is then the first. */
  approvers?: readonly string[] | undefined;
  traceId: string;
  digest: string;
  policyVersion: string;
  /** The post's text, when the tool passes it: bound as `cdg`. */
  content?: string | null;
  now?: number;
}

export async function mintReceipt(input: MintReceiptInput): Promise<{ receipt: string; claims: ReceiptClaims }> {
  const claims = ReceiptClaims.parse({
    iss: input.issuer,
    sub: input.agent,
    apv: input.approver,
    ...(input.approvers && input.approvers.length > 1 ? { apvs: [...input.approvers] } : {}),
    trc: input.traceId,
    act: input.digest,
    pol: input.policyVersion,
    ...(input.content != null ? { cdg: await contentDigest(input.content) } : {}),
    iat: input.now ?? Math.floor(Date.now() / 1000),
    jti: randomBase64url(16),
  });
  const receipt = await signCompactJws(input.privateKey, { typ: JWS_TYP.receipt, kid: input.kid }, claims);
  return { receipt, claims };
}

export interface ReceiptVerifyContext {
  /** The verifier's receipt keys (JWKS), by `kid`. */
  lookupKey(kid: string): Promise<CryptoKey | undefined> | CryptoKey | undefined;
  /** The verifier the reader's policy trusts (`iss`). */
  issuer: string;
  /** The post's rendered text; when given, the receipt must bind it (`cdg`). */
  content?: string;
}

export interface VerifiedReceipt {
  header: ProtectedHeader;
  claims: ReceiptClaims;
}

/**
 * Verifies a receipt: strict form and header, a known verifier key, the signature, the claims, the
 * issuer, and the content. Codes: `key_unknown` (unknown key or issuer), `signature_invalid`,
 * `token_malformed`, `action_mismatch` (the content changed since approval).
 */
export async function verifyReceipt(receipt: unknown, ctx: ReceiptVerifyContext): Promise<VerifiedReceipt> {
  const jws = parseCompactJws(receipt, JWS_TYP.receipt);
  const key = await ctx.lookupKey(jws.header.kid);
  if (!key) throw new TokenRejected('key_unknown', 'receipt key is not one of the verifier keys');
  await assertJwsSignature(jws, key);
  const parsed = ReceiptClaims.safeParse(jws.payload);
  if (!parsed.success) throw new TokenRejected('token_malformed', 'receipt claims do not fit the schema');
  const claims = parsed.data;
  if (claims.iss !== ctx.issuer) throw new TokenRejected('key_unknown', 'receipt is from another issuer');
  if (ctx.content !== undefined) {
    if (claims.cdg === undefined || claims.cdg !== (await contentDigest(ctx.content))) {
      throw new TokenRejected('action_mismatch', 'content changed since approval');
    }
  }
  return { header: jws.header, claims };
}
