// The two-person rule through the gateway (a tool that cannot embed the middleware): a rights change
// policy gives to two people is forwarded only with alice's and bob's approvals — as the header's list
// or the form field repeated, cut out byte for byte (multipart and urlencoded) — and one approval,
// two spellings, a replayed half of a pair, mixed digests, an empty element and six approvals are
// refused with nothing forwarded and nothing spent. Node only (tests).
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_STATUS, newTraceId } from '../../../lib/protocol';
import { defaultPolicyText } from '../../../server/policy/engine';
import { FORM, ORIGIN, send, startGatewayWorld } from '../../helpers/gateway';
import type { GatewayWorld } from '../../helpers/gateway';
import { DATABASES } from '../../helpers/verifier';
import type { Device } from '../../helpers/verifier';

const RIGHTS = '/index.php?title=Special:UserRights&user=Bob';
const ALICE = ['X-Forwarded-User: alice'];
const POLICY = `${defaultPolicyText()}
@id("two-for-rights") @approvers("2") permit (principal, action == Action::"quorum", resource) when { context.scope == "wiki.rights" };
@id("bob-reviews-rights") permit (principal == User::"bob", action == Action::"approve", resource is User) when { context.scope == "wiki.rights" };
`;

describe.each(DATABASES)('gateway: the two-person rule (%s)', (database) => {
  let w: GatewayWorld;
  beforeAll(async () => {
    w = await startGatewayWorld({ database });
    expect((await w.v.admin('PUT', '/v1/admin/policy', { text: POLICY })).statusCode).toBe(200);
  });
  afterAll(() => w.close());
  beforeEach(() => {
    w.upstream.seen.length = 0;
  });

  let n = 0;
  /** alice's own rights change, approved by `devices` under one trace id. */
  async function approvals(body: string, devices: Device[], contentType = FORM): Promise<string[]> {
    const traceId = newTraceId();
    const request = { method: 'POST', url: `${ORIGIN}${RIGHTS}`, contentType, body };
    // One after the other: a device's assertions must carry sign counts in the order of the tokens (minted
    // at once, two of alice's raced on their digests and the later token could get the lower count).
    const tokens: string[] = [];
    for (const d of devices) tokens.push((await w.v.mint(d, { request, agent: 'user:alice', scope: 'wiki.rights', traceId })).token);
    return tokens;
  }

  describe('the rights change', () => {
    it('alice\'s and bob\'s approvals in the header: forwarded with the digested bytes and a receipt naming both', async () => {
      const body = `user=Bob&wpGroup-sysop=1&saveusergroups=Save&n=${++n}`;
      const [a, b] = await approvals(body, [w.alice, w.bob]);
      const res = await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${a}, ${b}`] });
      expect(res.status).toBe(200);
      expect(w.upstream.seen).toHaveLength(1);
      expect(w.upstream.seen[0]!.body.toString()).toBe(body);
      expect(w.upstream.seen[0]!.headers['countersign-approval']).toBeUndefined();
      expect(decodeJwt(String(w.upstream.seen[0]!.headers['countersign-receipt']))).toMatchObject({ apvs: ['alice', 'bob'] });
    });

    it('the field repeated, urlencoded and multipart (first, side by side): every approval cut out, the rest forwarded exactly', async () => {
      const body = `user=Bob&wpGroup-sysop=1&saveusergroups=Save&n=${++n}`;
      const [a, b] = await approvals(body, [w.alice, w.bob]);
      const res = await send(w.port, 'POST', RIGHTS, { body: `countersign_approval=${a}&${body}&countersign_approval=${b}`, headers: ALICE });
      expect(res.status).toBe(200);
      expect(w.upstream.seen.at(-1)!.body.toString()).toBe(body);

      const boundary = '----WebKitFormBoundaryQ1w2E3r4';
      const type = `multipart/form-data; boundary=${boundary}`;
      const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
      const without = part('user', 'Bob') + part('wpGroup-sysop', '1') + part('n', String(++n)) + `--${boundary}--\r\n`;
      const [c, d] = await approvals(without, [w.alice, w.bob], type);
      const withBoth = part('countersign_approval', c!) + part('countersign_approval', d!) + without;
      const sent = await send(w.port, 'POST', RIGHTS, { body: withBoth, contentType: type, headers: ALICE });
      expect(sent.status).toBe(200);
      expect(w.upstream.seen.at(-1)!.body.toString()).toBe(without);
    });

    it('attack: alice\'s approval alone, or twice — 403 quorum_not_met, nothing forwarded; the pair then passes', async () => {
      const body = `user=Bob&wpGroup-sysop=1&saveusergroups=Save&n=${++n}`;
      const [a, a2, b] = await approvals(body, [w.alice, w.alice, w.bob]);
      const alone = await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${a}`] });
      expect(alone.status).toBe(403);
      expect(alone.code).toBe('quorum_not_met');
      expect((await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${a}, ${a2}`] })).code).toBe('quorum_not_met');
      expect(w.upstream.seen).toHaveLength(0);
      expect((await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${a}, ${b}`] })).status).toBe(200);
    });

    it('attack: the second approval hidden in a second spelling (the header beside the field) — token_malformed, nothing forwarded', async () => {
      const body = `user=Bob&wpGroup-sysop=1&saveusergroups=Save&n=${++n}`;
      const [a, b] = await approvals(body, [w.alice, w.bob]);
      const res = await send(w.port, 'POST', RIGHTS, { body: `${body}&countersign_approval=${a}`, headers: [...ALICE, `Countersign-Approval: ${b}`] });
      expect(res.code).toBe('token_malformed');
      expect(w.upstream.seen).toHaveLength(0);
    });

    it('attack: a replay of one of two tokens (alice\'s spent, bob\'s fresh) — replayed, nothing forwarded, bob\'s token not spent', async () => {
      const body = `user=Bob&wpGroup-sysop=1&saveusergroups=Save&n=${++n}`;
      const traceId = newTraceId();
      const request = { method: 'POST', url: `${ORIGIN}${RIGHTS}`, contentType: FORM, body };
      const mint = async (d: Device) => (await w.v.mint(d, { request, agent: 'user:alice', scope: 'wiki.rights', traceId })).token;
      const [a, b, b2] = [await mint(w.alice), await mint(w.bob), await mint(w.bob)];
      expect((await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${a}, ${b}`] })).status).toBe(200);
      w.upstream.seen.length = 0;
      const replayed = await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${a}, ${b2}`] });
      expect([replayed.status, replayed.code]).toEqual([409, 'replayed']);
      expect(w.upstream.seen).toHaveLength(0);
      expect((await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${await mint(w.alice)}, ${b2}`] })).status).toBe(200);
    });

    it('attack: tokens for two different requests (mixed digests) — refused, nothing forwarded; each half later passes with its own pair', async () => {
      const body = `user=Bob&wpGroup-sysop=1&saveusergroups=Save&n=${++n}`;
      const other = `user=Bob&wpGroup-bureaucrat=1&saveusergroups=Save&n=${++n}`;
      const [[a, b2], [a2, b]] = [await approvals(body, [w.alice, w.bob]), await approvals(other, [w.alice, w.bob])];
      const mixed = await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${a}, ${b}`] });
      expect([mixed.status, mixed.code]).toEqual([403, 'action_mismatch']);
      expect(w.upstream.seen).toHaveLength(0);
      expect((await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${a}, ${b2}`] })).status).toBe(200);
      expect((await send(w.port, 'POST', RIGHTS, { body: other, headers: [...ALICE, `Countersign-Approval: ${a2}, ${b}`] })).status).toBe(200);
    });

    it('attack: an empty element in the list, or six approvals (header or field), is token_malformed — nothing forwarded, nothing spent', async () => {
      const body = `user=Bob&wpGroup-sysop=1&saveusergroups=Save&n=${++n}`;
      const six = await approvals(body, [w.alice, w.bob, w.alice, w.bob, w.alice, w.bob]);
      const [a, b] = six;
      const refusals = [
        await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${a},, ${b}`] }),
        await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: , ${a}, ${b}`] }),
        await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${six.join(', ')}`] }),
        await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, ...six.map((t) => `Countersign-Approval: ${t}`)] }),
        await send(w.port, 'POST', RIGHTS, { body: `${body}${six.map((t) => `&countersign_approval=${t}`).join('')}`, headers: ALICE }),
      ];
      expect(refusals.map((r) => [r.status, r.code])).toEqual(refusals.map(() => [ERROR_STATUS.token_malformed, 'token_malformed']));
      expect(w.upstream.seen).toHaveLength(0);
      expect((await send(w.port, 'POST', RIGHTS, { body, headers: [...ALICE, `Countersign-Approval: ${a}, ${b}`] })).status).toBe(200);
    });
  });
});
