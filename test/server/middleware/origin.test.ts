// Attack class: the origin is taken from the request (issue 13, item 1). A token approved for tool B
// (another host, or the same host on another port) is replayed at tool A through an absolute-form
// request-target or a Host header naming B; and A's own token is sent under names that are not quite
// A's. On every front door, over a real socket with the bytes as written: the tool answers only to
// its configured origins, and the digested URL is that origin plus the path and query as received.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_KEY, FRAMEWORKS, PUBLIC_ORIGIN, REPLIES, REPLY_BODY, TOOL_ORIGIN, buildTool, rawRequest, startWorld } from '../../helpers/middleware';
import type { Tool, World } from '../../helpers/middleware';

const OTHER_TOOL = 'http://127.0.0.1:8081';
const agent = { 'x-agent-key': AGENT_KEY };

let world: World;
beforeAll(async () => {
  world = await startWorld('sqlite');
});
afterAll(() => world.close());

describe.each(FRAMEWORKS)('%s: the origin comes from configuration', (framework) => {
  let tool: Tool;
  beforeAll(async () => {
    tool = await buildTool(framework, { verifier: world.inProcess(), origin: [TOOL_ORIGIN, PUBLIC_ORIGIN] });
  });
  afterAll(() => tool.close());

  const send = async (target: string, host: string | null, token?: string) =>
    rawRequest(tool.port, { target, host, headers: { ...agent, ...(token ? { 'countersign-approval': token } : {}) }, body: REPLY_BODY });

  it('an absolute-form target naming another tool is refused 400, whatever the token approves', async () => {
    for (const other of [OTHER_TOOL, 'http://console.corp.example', 'http://127.0.0.1', 'https://127.0.0.1:8080', 'http://forum.corp.example', 'http://127.0.0.1.:8080', 'http://user@127.0.0.1:8080', 'http://127.0.0.1:8080@evil.example']) {
      const target = `${other}${REPLIES}`;
      // Approved for the other tool's URL: that tool's kill switches and blocks would have applied, not ours.
      const token = await world.approve({ url: `${other.replace(/\/\/.*@/, '//')}${REPLIES}` }).catch(() => undefined);
      for (const host of ['127.0.0.1:8080', null]) {
        const res = await send(target, host, token);
        expect(res.status, `${target} Host ${host}: ${res.text}`).toBe(400);
        expect(res.code).toBe('payload_invalid');
        expect(res.json().error?.traceId).toMatch(/^[0-9a-f]{32}$/);
      }
    }
    expect(tool.handled).toHaveLength(0);
  });

  it('a Host header of another tool, another port, a trailing dot or with junk is refused 400; no token is ever consulted', async () => {
    const token = await world.approve({ url: REPLIES });
    for (const host of ['127.0.0.1:8081', '127.0.0.1', '127.0.0.1:80', 'console.corp.example', '127.0.0.1.:8080', 'forum.corp.example.', 'forum.corp.example:8443', '127.0.0.1:8080, 127.0.0.1:8081', '127.0.0.1:8080/x', 'evil.example@127.0.0.1:8080', '']) {
      const res = await send(REPLIES, host, token);
      expect(res.status, `Host ${JSON.stringify(host)}: ${res.text}`).toBe(400);
      expect(res.code).toBe('payload_invalid');
    }
    expect(tool.handled).toHaveLength(0);
    // The token was never spent on any of them.
    expect((await send(REPLIES, '127.0.0.1:8080', token)).status).toBe(200);
  });

  it('a token for tool B, sent to A under A\'s own Host, is refused by the verifier (its URL is not A\'s)', async () => {
    const token = await world.approve({ url: `${OTHER_TOOL}${REPLIES}` });
    const res = await send(REPLIES, '127.0.0.1:8080', token);
    expect(res.status).toBe(403);
    expect(['audience_mismatch', 'action_mismatch']).toContain(res.code);
    expect(tool.handled).toHaveLength(1);
  });

  it('names that are the configured origin pass with its token: upper case, the default port, absolute form, no Host', async () => {
    const cases: Array<[string, string | null, string]> = [
      [REPLIES, 'FORUM.CORP.EXAMPLE', PUBLIC_ORIGIN],
      [REPLIES, 'forum.corp.example:443', PUBLIC_ORIGIN],
      [`${PUBLIC_ORIGIN}${REPLIES}`, 'forum.corp.example', PUBLIC_ORIGIN],
      [`HTTPS://Forum.Corp.Example:443${REPLIES}`, null, PUBLIC_ORIGIN],
      [`${TOOL_ORIGIN}${REPLIES}`, '127.0.0.1:8080', TOOL_ORIGIN],
      // HTTP/1.0 without Host: the first configured origin.
      [REPLIES, null, TOOL_ORIGIN],
    ];
    for (const [target, host, origin] of cases) {
      const before = tool.handled.length;
      const wrongOrigin = await world.approve({ url: `${origin === TOOL_ORIGIN ? PUBLIC_ORIGIN : TOOL_ORIGIN}${REPLIES}` });
      expect((await send(target, host, wrongOrigin)).status, `${target} ${host} with the other origin's token`).toBe(403);
      const token = await world.approve({ url: `${origin}${REPLIES}` });
      const res = await send(target, host, token);
      expect(res.status, `${target} Host ${host}: ${res.text}`).toBe(200);
      expect(tool.handled.length).toBe(before + 1);
    }
  });

  it('`//host/path` is a path on this origin, never an authority', async () => {
    const before = tool.handled.length;
    const target = `//127.0.0.1:8081${REPLIES}`;
    for (const url of [`${OTHER_TOOL}${REPLIES}`, `${TOOL_ORIGIN}${REPLIES}`]) {
      const res = await send(target, '127.0.0.1:8080', await world.approve({ url }));
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    }
    expect(tool.handled.length).toBe(before);
  });
});
