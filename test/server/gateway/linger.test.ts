import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { drainRefusedBody } from '@/server/gateway/linger';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A server whose handler drains each request's body and reports how many body bytes had arrived by then. */
async function draining(options: { limit: number; continued?: boolean }): Promise<{ port: number; drained: Promise<{ read: number; complete: boolean }> }> {
  let report!: (r: { read: number; complete: boolean }) => void;
  const drained = new Promise<{ read: number; complete: boolean }>((resolve) => (report = resolve));
  server = createServer();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let read = 0;
    req.on('data', (c: Buffer) => (read += c.length));
    await drainRefusedBody(req, { limit: options.limit, continued: options.continued ?? false });
    report({ read, complete: req.complete });
    res.writeHead(400, { connection: 'close' }).end('{}');
  };
  server.on('request', (req, res) => void handle(req, res));
  server.on('checkContinue', (req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, drained };
}

function sendSlowly(port: number, head: string, body: Buffer, delayMs: number): void {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(head);
  setTimeout(() => socket.write(body), delayMs);
}

describe('lingering close of a refused body', () => {
  it('reads the rest of a body that is still coming before the refusal goes out', async () => {
    const { port, drained } = await draining({ limit: 1 << 20 });
    sendSlowly(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n', Buffer.alloc(5000, 'a'), 100);
    expect(await drained).toEqual({ read: 5000, complete: true });
  });

  it('stops reading past the limit: a huge body is not read whole', async () => {
    const { port, drained } = await draining({ limit: 1000 });
    sendSlowly(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n', Buffer.alloc(200_000, 'a'), 20);
    const r = await drained;
    expect(r.complete).toBe(false);
    expect(r.read).toBeGreaterThan(1000);
    expect(r.read).toBeLessThan(10_000_000);
  });

  it('waits for nothing when the client awaits a 100 Continue that was never sent', async () => {
    const { port, drained } = await draining({ limit: 1 << 20, continued: false });
    sendSlowly(port, 'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n', Buffer.alloc(5000, 'a'), 5000);
    expect(await drained).toEqual({ read: 0, complete: false });
  });

  it('gives up after a second when the client stalls mid-body', async () => {
    const { port, drained } = await draining({ limit: 1 << 20 });
    sendSlowly(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n', Buffer.alloc(10, 'a'), 10);
    expect(await drained).toEqual({ read: 10, complete: false });
  });
});
