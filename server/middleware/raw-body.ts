// Reads a request body once, up to a limit, with `raw-body`: a declared Content-Length over the limit
// is refused before a byte is read, and a chunked body is refused as soon as it passes the limit,
// never buffered whole. Node only.
import getRawBody from 'raw-body';
import { CountersignError, PayloadInvalid } from '../../lib/protocol';

export const ALREADY_READ =
  'countersign: the request body was already read by another parser before the middleware could digest it; mount the countersign middleware before body parsers (or capture the exact bytes as req.rawBody)';

/** The default limit of a protected route's body (1 MiB): the most a verify call carries. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * The body's bytes; throws `payload_too_large` past `limit`, `payload_invalid` when the body is shorter
 * or longer than its Content-Length or the client went away. The stream is left paused on a refusal.
 */
export async function readRawBody(stream: NodeJS.ReadableStream, options: { limit: number; length?: string | string[] | undefined }): Promise<Buffer> {
  const length = typeof options.length === 'string' && /^\d+$/.test(options.length) ? Number(options.length) : null;
  try {
    return await getRawBody(stream, { limit: options.limit, length });
  } catch (error) {
    const type = (error as { type?: unknown }).type;
    if (type === 'entity.too.large') throw new CountersignError('payload_too_large', `the body is over this route's limit of ${options.limit} bytes`);
    if (type === 'request.aborted') throw new PayloadInvalid('the client aborted the body', 'request.body', { cause: error });
    if (type === 'request.size.invalid') throw new PayloadInvalid('the body does not match its Content-Length', 'request.body', { cause: error });
    // Not the client's doing: something in the tool read (or decoded) the stream before the middleware.
    if (type === 'stream.not.readable' || type === 'stream.encoding.set') throw new Error(ALREADY_READ, { cause: error });
    throw new PayloadInvalid('the body could not be read', 'request.body', { cause: error });
  }
}
