// Errors: every DESIGN.md code has its status; subclasses keep stable codes.
import { describe, expect, it } from 'vitest';
import { ChainBroken, CountersignError, ERROR_STATUS, PayloadInvalid, TokenRejected, isErrorCode } from '@/lib/protocol/errors';
import { ErrorBody } from '@/lib/protocol/api';

const DESIGN_CODES: Record<number, string[]> = {
  401: ['token_missing', 'unauthorized'],
  400: ['token_malformed', 'payload_invalid'],
  403: [
    'alg_not_allowed', 'typ_invalid', 'header_not_allowed', 'key_unknown', 'key_revoked', 'signature_invalid',
    'token_expired', 'token_not_yet_valid', 'ttl_too_long', 'audience_mismatch', 'action_mismatch',
    'approver_not_authorized', 'self_approval', 'kill_switch_engaged', 'site_blocked', 'code_invalid',
    // DESIGN.md's "New codes" (the gateway, issue 15; quorum, issue 17; user presence, issue 18).
    'route_not_protected', 'quorum_not_met', 'presence_required', 'presence_invalid',
  ],
  409: ['replayed', 'chain_broken', 'already_decided'],
  413: ['payload_too_large'],
  // DESIGN.md's "New codes" (agent proposals, issue 16).
  429: ['rate_limited'],
  503: ['verifier_unavailable'],
};

describe('error codes', () => {
  it.each(Object.entries(DESIGN_CODES).flatMap(([status, codes]) => codes.map((code) => [code, Number(status)] as const)))(
    '%s maps to HTTP %i as DESIGN.md says',
    (code, status) => {
      expect(isErrorCode(code)).toBe(true);
      expect(new CountersignError(code as never, 'x').status).toBe(status);
    },
  );

  it('adds only not_found (the JSON 404 for unknown routes) and upstream_unavailable (the gateway\'s 502) to DESIGN.md\'s codes', () => {
    const design = Object.values(DESIGN_CODES).flat();
    expect(Object.keys(ERROR_STATUS).filter((c) => !design.includes(c))).toEqual(['not_found', 'upstream_unavailable']);
  });

  it('subclasses carry their code and details and are CountersignErrors', () => {
    const token = new TokenRejected('replayed', 'token was already used');
    const payload = new PayloadInvalid('must be a string', 'request.url');
    const chain = new ChainBroken('gap', 1, 7, 'expected seq 6');
    for (const e of [token, payload, chain]) expect(e).toBeInstanceOf(CountersignError);
    expect(payload).toMatchObject({ code: 'payload_invalid', field: 'request.url', message: 'request.url: must be a string' });
    expect(chain).toMatchObject({ code: 'chain_broken', reason: 'gap', status: 409 });
  });

  it('the error body schema accepts the DESIGN.md shape and refuses unknown codes', () => {
    expect(ErrorBody.safeParse({ error: { code: 'replayed', message: 'm', traceId: '0af7651916cd43dd8448eb211c80319c' } }).success).toBe(true);
    expect(ErrorBody.safeParse({ error: { code: 'teapot', message: 'm' } }).success).toBe(false);
  });
});
