// The API schemas of agent keys and receipt lookup: what a gateway, an agent SDK or a reader's
// extension may send and must expect. Runtime-neutral code, tested in Node.
import { describe, expect, it } from 'vitest';
import { AGENT_KEY_PREFIX, AgentIdentity, AgentKey, AgentKeyCreated, HttpOrigin, RECEIPT_LOOKUP_LIMITS, ReceiptLookupRequest, ReceiptLookupResponse } from '../../../lib/protocol/api';
import { encodeBase64url } from '../../../lib/protocol';

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);
const cdg = (i: number) => `${String(i).padStart(3, '0')}${'A'.repeat(40)}`;

describe('AgentKey', () => {
  it('is csa_ + the canonical base64url of 32 bytes, whatever the bytes', () => {
    expect(AGENT_KEY_PREFIX).toBe('csa_');
    for (const fill of [0, 1, 127, 255]) expect(AgentKey.safeParse(`csa_${encodeBase64url(bytes(32, fill))}`).success).toBe(true);
    const random = crypto.getRandomValues(new Uint8Array(32));
    expect(AgentKey.parse(`csa_${encodeBase64url(random)}`)).toMatch(/^csa_/);
  });

  it.each([
    ['31 bytes', `csa_${encodeBase64url(bytes(31))}`],
    ['33 bytes', `csa_${encodeBase64url(bytes(33))}`],
    ['another prefix', `csk_${encodeBase64url(bytes(32))}`],
    ['no prefix', encodeBase64url(bytes(32))],
    ['unused low bits set in the last character', `csa_${encodeBase64url(bytes(32)).slice(0, -1)}B`],
    ['padding', `csa_${encodeBase64url(bytes(32))}=`],
    ['whitespace', ` csa_${encodeBase64url(bytes(32))}`],
  ])('refuses %s', (_name, value) => {
    expect(AgentKey.safeParse(value).success).toBe(false);
  });

  it('AgentKeyCreated and AgentIdentity are strict objects', () => {
    const key = `csa_${encodeBase64url(bytes(32))}`;
    expect(AgentKeyCreated.parse({ keyId: 'agk_1', key })).toEqual({ keyId: 'agk_1', key });
    expect(AgentKeyCreated.safeParse({ keyId: 'agk_1', key: 'secret' }).success).toBe(false);
    expect(AgentIdentity.parse({ agentId: 'agent:forum-helper', keyId: 'agk_1' })).toEqual({ agentId: 'agent:forum-helper', keyId: 'agk_1' });
    expect(AgentIdentity.safeParse({ agentId: 'agent:forum-helper', keyId: 'agk_1', key }).success).toBe(false);
    expect(AgentIdentity.safeParse({ agentId: '', keyId: 'agk_1' }).success).toBe(false);
  });
});

describe('HttpOrigin', () => {
  it.each(['https://forum.corp.example', 'http://127.0.0.1:8080', 'https://[::1]:8443', 'https://xn--bcher-kva.example'])('accepts %s', (origin) => {
    expect(HttpOrigin.safeParse(origin).success).toBe(true);
  });
  it.each(['https://forum.corp.example/', 'https://forum.corp.example/path', 'https://forum.corp.example?q', 'https://Forum.corp.example', 'https://forum.corp.example:443', 'ftp://forum.corp.example', 'file:///etc', 'forum.corp.example', '', 'https://user@forum.corp.example'])(
    'refuses %s (not exactly an http(s) origin)',
    (value) => {
      expect(HttpOrigin.safeParse(value).success).toBe(false);
    },
  );
});

describe('ReceiptLookupRequest / ReceiptLookupResponse', () => {
  it('takes one site and 1–100 unique digests', () => {
    expect(ReceiptLookupRequest.parse({ site: 'https://forum.corp.example', cdgs: [cdg(1)] })).toEqual({ site: 'https://forum.corp.example', cdgs: [cdg(1)] });
    const hundred = Array.from({ length: RECEIPT_LOOKUP_LIMITS.cdgs }, (_, i) => cdg(i));
    expect(ReceiptLookupRequest.safeParse({ site: 'https://forum.corp.example', cdgs: hundred }).success).toBe(true);
    expect(ReceiptLookupRequest.safeParse({ site: 'https://forum.corp.example', cdgs: [...hundred, cdg(100)] }).success).toBe(false);
    expect(ReceiptLookupRequest.safeParse({ site: 'https://forum.corp.example', cdgs: [] }).success).toBe(false);
    expect(ReceiptLookupRequest.safeParse({ site: 'https://forum.corp.example', cdgs: [cdg(1), cdg(1)] }).success).toBe(false);
    expect(ReceiptLookupRequest.safeParse({ site: 'https://forum.corp.example', cdgs: ['A'.repeat(44)] }).success).toBe(false);
    expect(ReceiptLookupRequest.safeParse({ site: 'https://forum.corp.example', cdgs: [cdg(1)], extra: true }).success).toBe(false);
  });

  it('answers receipts keyed by digest, at most five each, none empty', () => {
    expect(ReceiptLookupResponse.parse({ receipts: {} })).toEqual({ receipts: {} });
    expect(ReceiptLookupResponse.safeParse({ receipts: { [cdg(1)]: ['a.b.c'] } }).success).toBe(true);
    expect(ReceiptLookupResponse.safeParse({ receipts: { [cdg(1)]: [] } }).success).toBe(false);
    expect(ReceiptLookupResponse.safeParse({ receipts: { [cdg(1)]: Array.from({ length: 6 }, () => 'a.b.c') } }).success).toBe(false);
    expect(ReceiptLookupResponse.safeParse({ receipts: { 'not-a-digest': ['a.b.c'] } }).success).toBe(false);
  });
});
