// The HTTP floor for the verify benchmark: a Fastify server that parses a /v1/verify-sized JSON body
// and answers a receipt-sized JSON body, doing nothing else. Run as a child process by bench/http-floor.ts.
// Node only (bench).
import Fastify from 'fastify';

const RECEIPT = `${'e'.repeat(420)}.${'p'.repeat(380)}.${'s'.repeat(86)}`;

const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
app.post('/v1/verify', async (request) => {
  const body = request.body as { token?: unknown };
  return { allow: typeof body.token === 'string', receipt: RECEIPT, traceId: '0af7651916cd43dd8448eb211c80319c' };
});
const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
console.log(address);
