// A lingering close for a request refused before its body was read: what is left of the body is read
// and dropped (bounded in bytes and time) before the refusal goes out on a closing connection, so the
// client's unread bytes do not make the kernel reset the connection and swallow the refusal. Node only.
import type { IncomingMessage } from 'node:http';

/** At most this long is spent reading a refused body. */
const LINGER_MS = 1000;

/**
 * Resolves once the rest of `request`'s body has been read and dropped, or `limit` bytes have been,
 * or LINGER_MS has passed, or the client went away. At once when the body is complete, or when the
 * client waits for a `100 Continue` that was never sent (`continued` false): it sends nothing more.
 */
export function drainRefusedBody(request: IncomingMessage, options: { limit: number; continued: boolean }): Promise<void> {
  if (request.complete || request.destroyed) return Promise.resolve();
  if (/^100-continue$/i.test(String(request.headers.expect ?? '')) && !options.continued) return Promise.resolve();
  return new Promise((resolve) => {
    let read = 0;
    const done = (): void => {
      clearTimeout(timer);
      request.off('data', onData).off('end', done).off('error', done).off('close', done);
      request.pause();
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      read += chunk.length;
      if (read > options.limit) done();
    };
    const timer = setTimeout(done, LINGER_MS);
    request.on('data', onData).once('end', done).once('error', done).once('close', done);
    request.resume();
  });
}
