// The two-person rule through the middleware, on every front door and with both verifier clients: a
// request carries every approval (the header's list, or the form field repeated), the handler runs
// only when two distinct people approved exactly it, and it never sees an approval field; one
// approval, one person twice, two spellings, a replayed half of a pair, an empty element, six
// approvals and mixed digests are refused with nothing spent. SQLite and PostgreSQL.
import { decodeJwt } from 'jose';
import { newTraceId } from '../../../lib/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifierClient } from '../../../server/middleware';
import { defaultPolicyText } from '../../../server/policy/engine';
import { ACCESS, AGENT, AGENT_KEY, FORM_TYPE, FRAMEWORKS, JSON_TYPE, buildTool, rawRequest, startWorld } from '../../helpers/middleware';
import type { Tool, World } from '../../helpers/middleware';
import { DATABASES } from '../../helpers/verifier';

const agent = { 'x-agent-key': AGENT_KEY };
const POLICY = `${defaultPolicyText()}
@id("two-for-acl") @approvers("2") permit (principal, action == Action::"quorum", resource) when { context.scope == "admin.acl.write" };
@id("bob-reviews-acl") permit (principal == User::"bob", action == Action::"approve", resource is Agent) when { context.scope == "admin.acl.write" };
`;

let n = 0;

describe.each(DATABASES)('%s', (kind) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(kind);
    await world.v.registerAgent(AGENT, 'alice', ['forum.post', 'admin.acl.write'], ['http://127.0.0.1:8080']);
    expect((await world.v.admin('PUT', '/v1/admin/policy', { text: POLICY })).statusCode).toBe(200);
  });
  afterAll(() => world.close());

  const clients: Array<['in-process' | 'remote', () => Promise<VerifierClient>]> = [
    ['in-process', async () => world.inProcess()],
    ['remote', () => world.remote()],
  ];

  describe.each(FRAMEWORKS)('%s', (framework) => {
    describe.each(clients)('%s verifier', (_name, client) => {
      let tool: Tool;
      beforeAll(async () => {
        tool = await buildTool(framework, { verifier: await client() });
      });
      afterAll(() => tool.close());

      const change = (contentType = JSON_TYPE) => (contentType === JSON_TYPE ? `{"visibility":"all-employees","n":${++n}}` : `visibility=all-employees&n=${++n}`);
      // Every approval of one action shares its trace id, as the extension and the verifier give them.
      const traces = new Map<string, string>();
      const approve = async (body: string, device = world.alice, contentType = JSON_TYPE) => {
        if (!traces.has(body)) traces.set(body, newTraceId());
        const request = { method: 'PUT', url: `http://127.0.0.1:8080${ACCESS}`, contentType, body };
        return (await world.v.mint(device, { request, agent: AGENT, scope: 'admin.acl.write', traceId: traces.get(body)! })).token;
      };
      const put = (body: string, headers: Record<string, string>, contentType = JSON_TYPE) => rawRequest(tool.port, { method: 'PUT', target: ACCESS, headers: { ...agent, ...headers }, body, contentType });

      it('alice\'s and bob\'s approvals in one header: the handler runs once, with a receipt naming both', async () => {
        const body = change();
        const [a, b] = [await approve(body), await approve(body, world.bob)];
        const before = tool.handled.length;
        const res = await put(body, { 'countersign-approval': `${a}, ${b}` });
        expect(res.status, res.text).toBe(200);
        expect(tool.handled.length).toBe(before + 1);
        expect(decodeJwt(tool.handled.at(-1)!.receipt!)).toMatchObject({ apv: 'alice', apvs: ['alice', 'bob'] });
        expect((await put(body, { 'countersign-approval': `${a}, ${b}` })).code).toBe('replayed');
      });

      it('the same two as the form field repeated: allowed, and the handler sees no approval field', async () => {
        const body = change(FORM_TYPE);
        const [a, b] = [await approve(body, world.alice, FORM_TYPE), await approve(body, world.bob, FORM_TYPE)];
        const res = await put(`${body}&countersign_approval=${a}&countersign_approval=${b}`, {}, FORM_TYPE);
        expect(res.status, res.text).toBe(200);
        expect(tool.handled.at(-1)!.body).toEqual({ visibility: 'all-employees', n: String(n) });
      });

      it('attack: one approval, or alice\'s twice, where two people are required — 403 quorum_not_met, the handler never runs, nothing spent', async () => {
        const body = change();
        const [a, a2, b] = [await approve(body), await approve(body), await approve(body, world.bob)];
        const before = tool.handled.length;
        expect((await put(body, { 'countersign-approval': a })).code).toBe('quorum_not_met');
        expect((await put(body, { 'countersign-approval': `${a}, ${a2}` })).code).toBe('quorum_not_met');
        expect(tool.handled.length).toBe(before);
        expect((await put(body, { 'countersign-approval': `${a}, ${b}` })).status).toBe(200);
      });

      it('attack: a second approval hidden in a second spelling (the header and the field) is token_malformed', async () => {
        const body = change(FORM_TYPE);
        const [a, b] = [await approve(body, world.alice, FORM_TYPE), await approve(body, world.bob, FORM_TYPE)];
        expect((await put(`${body}&countersign_approval=${a}`, { 'countersign-approval': b }, FORM_TYPE)).code).toBe('token_malformed');
        expect((await put(`${body}&countersign_approval=${a}&countersign_approval=${b}`, {}, FORM_TYPE)).status).toBe(200);
      });

      it('attack: tokens for two different requests (mixed digests) — refused, nothing spent', async () => {
        const body = change();
        const other = change();
        const [a, b] = [await approve(body), await approve(other, world.bob)];
        expect((await put(body, { 'countersign-approval': `${a}, ${b}` })).code).toBe('action_mismatch');
        expect((await put(body, { 'countersign-approval': `${a}, ${await approve(body, world.bob)}` })).status).toBe(200);
      });

      it('attack: a replay of one of two tokens (alice\'s spent, bob\'s fresh) is replayed, and bob\'s fresh one is not spent by it', async () => {
        const body = change();
        const [a, b] = [await approve(body), await approve(body, world.bob)];
        expect((await put(body, { 'countersign-approval': `${a}, ${b}` })).status).toBe(200);
        const before = tool.handled.length;
        const b2 = await approve(body, world.bob);
        expect((await put(body, { 'countersign-approval': `${a}, ${b2}` })).code).toBe('replayed');
        expect(tool.handled.length).toBe(before);
        expect((await put(body, { 'countersign-approval': `${await approve(body)}, ${b2}` })).status).toBe(200);
      });

      it('attack: an empty element in the list, or six approvals, is token_malformed at the front door; none of them is spent', async () => {
        const body = change();
        const [a, b] = [await approve(body), await approve(body, world.bob)];
        const more = await Promise.all([world.alice, world.bob, world.alice, world.bob].map((d) => approve(body, d)));
        const before = tool.handled.length;
        expect((await put(body, { 'countersign-approval': `${a},, ${b}` })).code).toBe('token_malformed');
        expect((await put(body, { 'countersign-approval': `${a}, ${b}, ` })).code).toBe('token_malformed');
        expect((await put(body, { 'countersign-approval': [a, b, ...more].join(', ') })).code).toBe('token_malformed');
        const form = change(FORM_TYPE);
        const sixFields = (await Promise.all([0, 1, 2, 3, 4, 5].map((i) => approve(form, i % 2 ? world.bob : world.alice, FORM_TYPE)))).map((t) => `&countersign_approval=${t}`).join('');
        expect((await put(`${form}${sixFields}`, {}, FORM_TYPE)).code).toBe('token_malformed');
        expect(tool.handled.length).toBe(before);
        expect((await put(body, { 'countersign-approval': `${a}, ${b}` })).status).toBe(200);
      });
    });
  });
});
