// Attack class: a token approved for one scope runs on a route of another (issue 13, item 2: a
// `forum.post` token widened payroll-2026 through the `admin.acl.write` route), and receipts that bind
// text the tool chose rather than the text approved (item 5). Each front door passes its route's
// scope and content field to the verifier; the verifier reads the post's text itself. In-process and
// remote, on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentDigest, importEs256Jwks, verifyReceipt } from '../../../lib/protocol';
import type { VerifierClient } from '../../../server/middleware';
import { decodePart } from '../../helpers/approval-world';
import { DATABASES, PUBLIC_URL } from '../../helpers/verifier';
import { ACCESS, ACCESS_BODY, AGENT, AGENT_KEY, FORM_TYPE, FRAMEWORKS, JSON_TYPE, REPLIES, buildTool, rawRequest, startWorld } from '../../helpers/middleware';
import type { Tool, World } from '../../helpers/middleware';

const agent = { 'x-agent-key': AGENT_KEY };


describe.each(DATABASES)('on %s', (kind) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(kind);
  });
  afterAll(() => world.close());

  describe.each(['in-process', 'remote'] as const)('%s verifier', (mode) => {
    let verifier: VerifierClient;
    beforeAll(async () => {
      verifier = mode === 'remote' ? await world.remote() : world.inProcess();
    });

    describe.each(FRAMEWORKS)('%s', (framework) => {
      let tool: Tool;
      beforeAll(async () => {
        tool = await buildTool(framework, { verifier });
      });
      afterAll(() => tool.close());

      it('a token with scp forum.post, for this very PUT, is refused on the admin.acl.write route (action_mismatch)', async () => {
        const before = tool.handled.length;
        // The agent may post (its registered scope); the token approves exactly this request, only under another scope.
        const token = await world.approve({ method: 'PUT', url: ACCESS, body: ACCESS_BODY }, { scope: 'forum.post' });
        const res = await rawRequest(tool.port, { method: 'PUT', target: ACCESS, headers: { ...agent, 'countersign-approval': token }, body: ACCESS_BODY });
        expect(res.status, res.text).toBe(403);
        expect(res.code).toBe('action_mismatch');
        expect(res.json().error?.traceId).toMatch(/^[0-9a-f]{32}$/);
        // alice's own approval, under forum.post, of her own PUT: the same.
        const own = await world.approve({ method: 'PUT', url: ACCESS, body: ACCESS_BODY }, { scope: 'forum.post', agent: 'user:alice' });
        expect((await rawRequest(tool.port, { method: 'PUT', target: ACCESS, headers: { 'x-user': 'alice', 'countersign-approval': own }, body: ACCESS_BODY })).code).toBe('action_mismatch');
        expect(tool.handled.length).toBe(before);
        // Under the route's own scope it is allowed.
        const right = await world.approve({ method: 'PUT', url: ACCESS, body: ACCESS_BODY }, { scope: 'admin.acl.write', agent: 'user:alice' });
        expect((await rawRequest(tool.port, { method: 'PUT', target: ACCESS, headers: { 'x-user': 'alice', 'countersign-approval': right }, body: ACCESS_BODY })).status).toBe(200);
      });

      it('a token with scp admin.acl.write is no token for the forum.post route either', async () => {
        const body = '{"body":"hi"}';
        const token = await world.approve({ url: REPLIES, body }, { scope: 'admin.acl.write' });
        const res = await rawRequest(tool.port, { target: REPLIES, headers: { ...agent, 'countersign-approval': token }, body });
        expect(res.code).toBe('action_mismatch');
      });

      it('the receipt\'s cdg is the digest of the text at the route\'s content field, read by the verifier from the approved body', async () => {
        const jwks = await importEs256Jwks((await world.v.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json());
        const cases: Array<[string, string, string]> = [
          ['{"body":"  Ask the payroll team\\n for a  time-boxed grant. ","author_kind":"assistant"}', JSON_TYPE, 'Ask the payroll team for a time-boxed grant.'],
          ['body=Drafted+by+the+assistant%2C+approved+by+alice.&tag=x', FORM_TYPE, 'Drafted by the assistant, approved by alice.'],
        ];
        for (const [body, contentType, text] of cases) {
          const token = await world.approve({ url: REPLIES, contentType, body });
          const res = await rawRequest(tool.port, { target: REPLIES, headers: { ...agent, 'countersign-approval': token }, contentType, body });
          expect(res.status, res.text).toBe(200);
          const receipt = tool.handled.at(-1)!.receipt!;
          expect(decodePart(receipt, 1)).toMatchObject({ sub: AGENT, apv: 'alice', cdg: await contentDigest(text) });
          await expect(verifyReceipt(receipt, { lookupKey: (kid) => jwks.get(kid), issuer: PUBLIC_URL, content: text })).resolves.toBeDefined();
          await expect(verifyReceipt(receipt, { lookupKey: (kid) => jwks.get(kid), issuer: PUBLIC_URL, content: `${text} (edited)` })).rejects.toMatchObject({ code: 'action_mismatch' });
        }
        // A route without a content field: a receipt without cdg.
        const token = await world.approve({ method: 'PUT', url: ACCESS, body: ACCESS_BODY }, { scope: 'admin.acl.write', agent: 'user:alice' });
        await rawRequest(tool.port, { method: 'PUT', target: ACCESS, headers: { 'x-user': 'alice', 'countersign-approval': token }, body: ACCESS_BODY });
        expect(decodePart(tool.handled.at(-1)!.receipt!, 1)).not.toHaveProperty('cdg');
      });
    });
  });
});
