// Bearer-token check for the admin API and /metrics, in constant time. Node only.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError } from '../../lib/protocol';

export function adminGuard(adminToken: string) {
  const expected = createHash('sha256').update(adminToken).digest();
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
    const ok = presented !== '' && timingSafeEqual(createHash('sha256').update(presented).digest(), expected);
    if (!ok) throw new CountersignError('unauthorized', 'admin bearer token missing or wrong');
  };
}
