// A small world for approval-token tests: one enrolled device key, a request, and a verify
// context with recorders. Also raw JWS crafting for attacks. Node only (tests).
import type { ApprovalVerifyContext } from '@/lib/protocol/approval-token';
import type { EnrolledKey } from '@/lib/protocol/device-signed';
import { mintApprovalToken } from '@/lib/protocol/approval-token';
import { exportEs256PublicJwk, generateEs256KeyPair, jwkThumbprint } from '@/lib/protocol/es256';
import { encodeBase64url, newTraceId, utf8 } from '@/lib/protocol/encoding';

export const NOW = 1_800_000_000;
/** The scope of REQUEST's route (the forum's reply route). */
export const SCOPE = 'forum.post';
export const REQUEST = {
  method: 'POST',
  url: 'https://forum.corp.example/api/topics/7/replies',
  contentType: 'application/json',
  body: '{"body":"Try revoking the group grant.","author_kind":"assistant"}',
};

export async function makeWorld() {
  const pair = await generateEs256KeyPair();
  const jwk = await exportEs256PublicJwk(pair.publicKey);
  const kid = await jwkThumbprint(jwk);
  const key: EnrolledKey = { kid, deviceId: 'dev-1', userId: 'alice', revoked: false, publicKey: pair.publicKey };
  const consumed = new Set<string>();
  const lookups: string[] = [];

  async function mint(overrides: { now?: number; ttlSeconds?: number; request?: typeof REQUEST; agent?: string; scope?: string } = {}) {
    return mintApprovalToken({
      privateKey: pair.privateKey,
      kid,
      deviceId: key.deviceId,
      userId: key.userId,
      request: overrides.request ?? REQUEST,
      agent: overrides.agent ?? 'agent:forum-helper',
      scope: overrides.scope ?? SCOPE,
      traceId: newTraceId(),
      ttlSeconds: overrides.ttlSeconds ?? 120,
      now: overrides.now ?? NOW,
    });
  }

  function context(overrides: Partial<ApprovalVerifyContext> = {}): ApprovalVerifyContext {
    return {
      lookupKey: (k) => {
        lookups.push(k);
        return k === kid ? key : undefined;
      },
      request: REQUEST,
      now: NOW,
      maxTtlSeconds: 120,
      authorize: () => undefined,
      kills: () => [],
      // Presence is the verifier's to judge (server/presence.ts); a protocol test that needs it passes its own.
      presence: () => undefined,
      consume: ({ iss, jti }) => {
        const id = JSON.stringify([iss, jti]);
        if (consumed.has(id)) return false;
        consumed.add(id);
        return true;
      },
      ...overrides,
      // The route's scope: REQUEST's (forum.post) unless a test names another.
      scope: overrides.scope ?? SCOPE,
    };
  }

  /** Signs arbitrary header and payload text with the enrolled device key (a hostile signer's tool). */
  async function signRaw(header: unknown, payload: unknown): Promise<string> {
    const h = encodeBase64url(typeof header === 'string' ? header : JSON.stringify(header));
    const p = encodeBase64url(typeof payload === 'string' ? payload : JSON.stringify(payload));
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, utf8(`${h}.${p}`));
    return `${h}.${p}.${encodeBase64url(new Uint8Array(sig))}`;
  }

  return { pair, jwk, kid, key, consumed, lookups, mint, context, signRaw };
}

/** The order n of the P-256 group. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** Rewrites a token's signature (r, s) into (r, n − s): still valid, different bytes. */
export function malleate(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  const sValue = BigInt(`0x${sig.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_N - sValue).toString(16).padStart(64, '0'), 'hex');
  return `${h}.${p}.${Buffer.concat([sig.subarray(0, 32), flipped]).toString('base64url')}`;
}

/** The token with its last character's unused low bits changed: the same bytes, a non-canonical spelling. */
export function flipUnusedBits(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  // A 64-byte signature is 86 characters: the last carries 2 unused bits.
  const last = token.at(-1)!;
  return token.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
}

export function decodePart(token: string, i: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
