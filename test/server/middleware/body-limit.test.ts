// Attack class: a body far over the route's limit is read whole before it is refused (issue 13,
// item 4: 96 MiB to a 64 KiB tool took about 190 MiB of memory). On every front door the body is
// pulled from a generator only as fast as the connection takes it; when the 413 arrives, far fewer
// bytes than were offered have been pulled: the server stopped reading at the limit (a declared
// Content-Length over it: before reading at all), never buffered the rest, and closed the connection.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_KEY, FRAMEWORKS, REPLIES, buildTool, rawRequest, startWorld, streamedRequest } from '../../helpers/middleware';
import type { Tool, World } from '../../helpers/middleware';

const LIMIT = 64 * 1024;
const HUGE = 96 * 1024 * 1024;
/** Far fewer than sent: what socket buffers can hold on loopback, with room to spare. */
const FAR_FEWER = 16 * 1024 * 1024;

let world: World;
beforeAll(async () => {
  world = await startWorld('sqlite');
});
afterAll(() => world.close());

describe.each(FRAMEWORKS)('%s: a body over the limit is refused while it streams', (framework) => {
  let tool: Tool;
  beforeAll(async () => {
    tool = await buildTool(framework, { verifier: world.inProcess(), bodyLimit: LIMIT });
  });
  afterAll(() => tool.close());

  it('96 MiB declared by Content-Length to a 64 KiB route: 413 before the body is read, the connection closed', async () => {
    const res = await streamedRequest(tool.port, { target: REPLIES, totalBytes: HUGE, declareLength: true, headers: { 'x-agent-key': AGENT_KEY } });
    expect(res.status).toBe(413);
    expect(res.code).toBe('payload_too_large');
    expect(res.pulledWhenAnswered).toBeLessThan(FAR_FEWER);
    expect(res.connection).toBe('close');
    expect(tool.handled).toHaveLength(0);
  });

  it('96 MiB chunked (no Content-Length): 413 once 64 KiB have passed, the rest never pulled', async () => {
    const res = await streamedRequest(tool.port, { target: REPLIES, totalBytes: HUGE, declareLength: false, headers: { 'x-agent-key': AGENT_KEY } });
    expect(res.status).toBe(413);
    expect(res.code).toBe('payload_too_large');
    expect(res.pulledWhenAnswered).toBeLessThan(FAR_FEWER);
    expect(tool.handled).toHaveLength(0);
  });

  it('chunked in small pieces just over the limit: 413; a person\'s request is refused alike (the limit is everyone\'s)', async () => {
    const res = await streamedRequest(tool.port, { target: REPLIES, totalBytes: LIMIT + 1, chunkBytes: 1000, declareLength: false, headers: { 'x-user': 'bob' } });
    expect(res.status).toBe(413);
    expect(tool.handled).toHaveLength(0);
  });

  it('a body of exactly the limit is read and reaches the handler (the control)', async () => {
    const text = 'a'.repeat(LIMIT);
    const res = await rawRequest(tool.port, { target: REPLIES, headers: { 'x-user': 'bob' }, contentType: 'text/plain', body: text });
    expect(res.status, res.text.slice(0, 200)).toBe(200);
    expect(tool.handled.at(-1)).toMatchObject({ route: 'reply', body: text });
  });

  it('a body cut short of its Content-Length (the client went away) never reaches the handler', async () => {
    const before = tool.handled.length;
    const socket = connect(tool.port, '127.0.0.1');
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
    });
    socket.end(`POST ${REPLIES} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-User: bob\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\n0123456789`);
    const text = await answer;
    expect(text === '' || /^HTTP\/1\.1 4\d\d/.test(text), text).toBe(true);
    expect(tool.handled.length).toBe(before);
  });
});
