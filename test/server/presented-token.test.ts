// What a presented token says about itself before it is verified: read leniently (only evidence or a
// lookup key), empty for anything that is not a three-segment string within the size cap. Node only (tests).
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_BYTES } from '../../lib/protocol';
import { readPresented } from '../../server/presented-token';

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('readPresented', () => {
  it('reads the header and claims of a well-formed token without verifying it', () => {
    const token = `${segment({ alg: 'ES256', kid: 'k1' })}.${segment({ sub: 'alice', agt: 'agent:a' })}.c2ln`;
    expect(readPresented(token)).toEqual({ header: { alg: 'ES256', kid: 'k1' }, claims: { sub: 'alice', agt: 'agent:a' } });
    // Asked again (one verify reads it more than once), the same answer.
    expect(readPresented(token)).toEqual({ header: { alg: 'ES256', kid: 'k1' }, claims: { sub: 'alice', agt: 'agent:a' } });
  });

  it('empty for what is not a token: another type, over the size cap, not three segments (a JWE has five)', () => {
    const empty = { header: {}, claims: {} };
    for (const token of [undefined, null, 42, {}, ['a.b.c'], '', 'a.b', 'a.b.c.d.e', `${segment({ alg: 'ES256' })}.${segment({ sub: 'x' })}.${'A'.repeat(MAX_TOKEN_BYTES)}`]) {
      expect(readPresented(token), String(token).slice(0, 40)).toEqual(empty);
    }
  });

  it('an empty object for a segment that is not a JSON object (array, string, junk, invalid UTF-8), the other kept', () => {
    const claims = segment({ sub: 'alice' });
    for (const header of [segment([1, 2]), segment('ES256'), '!!!', Buffer.from([0xff, 0xfe]).toString('base64url'), '']) {
      expect(readPresented(`${header}.${claims}.c2ln`)).toEqual({ header: {}, claims: { sub: 'alice' } });
    }
  });
});
