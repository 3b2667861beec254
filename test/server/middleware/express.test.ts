// What only the Express front door does: protect() on the route, so Express's router decides;
// a body another parser already read is a configuration error unless its exact bytes were kept;
// `req.body` is the protocol's parse; a router mounted under a prefix; a URL rewritten before routing.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { ErrorRequestHandler, Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countersignExpress } from '../../../server/middleware';
import { AGENT_KEY, FORM_TYPE, MARKERS, REPLIES, REPLY_BODY, TOOL_ORIGIN, principalFrom, rawRequest, startWorld } from '../../helpers/middleware';
import type { World } from '../../helpers/middleware';

const agent = { 'x-agent-key': AGENT_KEY };
const PROTECTION = { scope: 'forum.post', content: '/body' };

let world: World;
beforeAll(async () => {
  world = await startWorld('sqlite');
});
afterAll(() => world.close());

async function serve(app: express.Express): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function countersign() {
  return countersignExpress({ origin: TOOL_ORIGIN, markers: MARKERS, verifier: world.inProcess(), principal: (req) => principalFrom(req.headers) });
}

const errors: string[] = [];
const recordErrors: ErrorRequestHandler = (error: Error, _req, res, _next) => {
  errors.push(error.message);
  res.status(500).json({ failed: error.message });
};

describe('Express: body parsers and protect()', () => {
  it('a body parser mounted before protect() is refused as a configuration error: the handler never runs', async () => {
    const app = express();
    let ran = 0;
    app.use(express.json());
    app.post('/api/topics/:id/replies', countersign().protect(PROTECTION), (_req, res) => void res.json({ ran: ++ran }));
    app.use(recordErrors);
    const tool = await serve(app);
    try {
      const res = await rawRequest(tool.port, { target: REPLIES, headers: agent, body: REPLY_BODY });
      expect(res.status).toBe(500);
      expect(errors.at(-1)).toMatch(/mount the countersign middleware before body parsers/);
      expect(ran).toBe(0);
    } finally {
      await tool.close();
    }
  });

  it('unless the parser kept the exact bytes as req.rawBody: those are digested, and req.body is the protocol\'s parse', async () => {
    const app = express();
    const keep = { verify: (req: Request, _res: Response, buf: Buffer) => void (req.rawBody = buf) };
    app.use(express.json(keep), express.urlencoded({ extended: true, ...keep }));
    const bodies: unknown[] = [];
    app.post('/api/topics/:id/replies', countersign().protect(PROTECTION), (req, res) => {
      bodies.push(req.body);
      res.json({ ok: true, receipt: req.countersign?.receipt ?? null });
    });
    const tool = await serve(app);
    try {
      // express.json takes the last duplicate key; the protocol refuses the document.
      const dup = await rawRequest(tool.port, { target: REPLIES, headers: { 'x-user': 'bob' }, body: '{"body":"hi","author_kind":"assistant","author_kind":"person"}' });
      expect(dup.code).toBe('payload_invalid');
      // express.urlencoded({ extended: true }) makes nested objects and would hide a repeated field; the handler gets the protocol's view.
      const form = 'body=hi&meta[by]=x&tag=a&tag=b';
      expect((await rawRequest(tool.port, { target: REPLIES, headers: { 'x-user': 'bob' }, contentType: FORM_TYPE, body: form })).status).toBe(200);
      expect({ ...(bodies.at(-1) as object) }).toEqual({ body: 'hi', 'meta[by]': 'x', tag: ['a', 'b'] });
      const token = await world.approve({ url: REPLIES });
      const res = await rawRequest(tool.port, { target: REPLIES, headers: { ...agent, 'countersign-approval': token }, body: REPLY_BODY });
      expect(res.json()).toMatchObject({ receipt: expect.stringMatching(/^ey/) });
      expect(bodies).toHaveLength(2);
    } finally {
      await tool.close();
    }
  });

  it('a router mounted under a prefix: the digested URL is the whole target as received', async () => {
    const app = express();
    const router = express.Router();
    router.post('/api/topics/:id/replies', countersign().protect(PROTECTION), (req, res) => void res.json({ receipt: req.countersign?.receipt ?? null }));
    app.use('/forum', router);
    const tool = await serve(app);
    try {
      const forInner = await world.approve({ url: REPLIES });
      expect((await rawRequest(tool.port, { target: `/forum${REPLIES}`, headers: { ...agent, 'countersign-approval': forInner }, body: REPLY_BODY })).code).toBe('action_mismatch');
      const token = await world.approve({ url: `/forum${REPLIES}` });
      const res = await rawRequest(tool.port, { target: `/forum${REPLIES}`, headers: { ...agent, 'countersign-approval': token }, body: REPLY_BODY });
      expect(res.json()).toMatchObject({ receipt: expect.stringMatching(/^ey/) });
    } finally {
      await tool.close();
    }
  });

  it('a URL rewritten before routing (here: lower-cased) is refused: the URL approved would not be the URL routed', async () => {
    const app = express();
    app.set('case sensitive routing', true);
    app.use((req, _res, next) => {
      req.url = req.url.toLowerCase();
      next();
    });
    let ran = 0;
    app.post('/api/topics/:id/replies', countersign().protect(PROTECTION), (_req, res) => void res.json({ ran: ++ran }));
    const tool = await serve(app);
    try {
      const upper = '/API/TOPICS/1/REPLIES';
      const token = await world.approve({ url: upper });
      const res = await rawRequest(tool.port, { target: upper, headers: { ...agent, 'countersign-approval': token }, body: REPLY_BODY });
      expect(res.status).toBe(400);
      expect(res.code).toBe('payload_invalid');
      expect(ran).toBe(0);
      // Untouched by the rewrite, the request runs.
      const plain = await world.approve({ url: REPLIES });
      expect((await rawRequest(tool.port, { target: REPLIES, headers: { ...agent, 'countersign-approval': plain }, body: REPLY_BODY })).status).toBe(200);
    } finally {
      await tool.close();
    }
  });

  it('protect() and countersignExpress() refuse a mistaken configuration (TypeError)', () => {
    expect(() => countersign().protect({ scope: '' })).toThrow(TypeError);
    expect(() => countersign().protect({ scope: 'x', requires: 'never' as never })).toThrow(TypeError);
    expect(() => countersignExpress({ origin: 'http://127.0.0.1:8080/x', verifier: world.inProcess(), principal: () => ({ kind: 'user', id: 'x' }) })).toThrow(TypeError);
    expect(() => countersignExpress({ origin: [] as never, verifier: world.inProcess(), principal: () => ({ kind: 'user', id: 'x' }) })).toThrow(TypeError);
  });
});
