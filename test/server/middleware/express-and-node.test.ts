// The middleware in an Express tool and a plain node:http tool: same decisions as in Fastify.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countersignExpress, countersignNode, inProcessVerifier } from '../../../server/middleware';
import { startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';
import { MARKERS, REPLY_BODY, ROUTES, TOOL_ORIGIN, principalFrom } from './tool-scenario';

let v: TestVerifier;
let alice: Device;
beforeAll(async () => {
  v = await startVerifier('sqlite');
  alice = await v.enroll('alice');
  await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], [TOOL_ORIGIN]);
});
afterAll(() => v.close());

async function listen(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const approvedRequest = { method: 'POST', url: `${TOOL_ORIGIN}/api/topics/7/replies`, contentType: 'application/json', body: REPLY_BODY };

describe.each(['express', 'node:http'] as const)('%s adapter', (framework) => {
  let base: string;
  let server: ReturnType<typeof createServer>;
  const handled: Array<{ body: unknown; receipt: string | null }> = [];

  beforeAll(async () => {
    const options = { routes: ROUTES, markers: MARKERS, verifier: inProcessVerifier(v.app.verifier.verifyDeps), origin: TOOL_ORIGIN };
    if (framework === 'express') {
      const app = express();
      app.use(countersignExpress({ ...options, principal: (req) => principalFrom(req.headers) }));
      app.use(express.json());
      app.post('/api/topics/:id/replies', (req, res) => {
        handled.push({ body: req.body, receipt: req.countersign?.receipt ?? null });
        res.json({ ok: true });
      });
      server = createServer(app);
    } else {
      const guard = countersignNode({ ...options, principal: (req) => principalFrom(req.headers) });
      server = createServer(async (req, res) => {
        const g = await guard(req, res);
        if (!g.ok) return;
        handled.push({ body: JSON.parse(g.body.toString('utf8')), receipt: g.receipt ?? null });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    }
    base = await listen(server);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (headers: Record<string, string>) =>
    fetch(`${base}/api/topics/7/replies`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: REPLY_BODY });

  it('a person\'s post passes, with its body intact for the handler', async () => {
    const res = await post({ 'x-user': 'bob' });
    expect(res.status).toBe(200);
    expect(handled.at(-1)).toEqual({ body: { body: 'Try revoking the group grant.' }, receipt: null });
  });

  it('an agent without a token → 401 token_missing', async () => {
    const res = await post({ 'x-agent-key': 'forum-helper-key' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'token_missing' } });
  });

  it('an agent with its owner\'s approval runs, with the receipt; a replay → 409', async () => {
    const { token } = await v.mint(alice, { request: approvedRequest });
    const res = await post({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': token });
    expect(res.status).toBe(200);
    expect(handled.at(-1)?.receipt).toMatch(/^ey/);
    const replay = await post({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': token });
    expect(replay.status).toBe(409);
  });
});
