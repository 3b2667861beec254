// The scripted rogue assistant against the listening demo and a listening verifier (remote mode):
// every assistant call is refused with DESIGN.md's code, the person's post goes through, and
// payroll-2026 stays team-only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteVerifier } from '../../server/middleware';
import { buildDemo } from '../../demo/app';
import type { Demo } from '../../demo/app';
// Imported as the browser tests do: importing demo/agent must not run it.
import { runRogueAgent } from '../../demo/agent';
import { startVerifier } from '../helpers/verifier';
import type { TestVerifier } from '../helpers/verifier';
import { freePort } from '../helpers/demo-world';

describe('npm run demo:agent (runRogueAgent)', () => {
  let v: TestVerifier;
  let demo: Demo;
  let forumUrl: string;
  let consoleUrl: string;

  beforeAll(async () => {
    v = await startVerifier('sqlite');
    await v.enroll('alice');
    const verifierUrl = await v.app.listen({ port: 0, host: '127.0.0.1' });
    const [forumPort, consolePort] = [await freePort(), await freePort()];
    forumUrl = `http://127.0.0.1:${forumPort}`;
    consoleUrl = `http://localhost:${consolePort}`;
    await v.registerAgent('agent:forum-helper', 'alice', ['forum.post'], [forumUrl]);
    await v.registerAgent('agent:access-helper', 'alice', ['admin.acl.write'], [consoleUrl]);
    demo = await buildDemo({ verifier: remoteVerifier({ url: verifierUrl }), forumOrigin: forumUrl, consoleOrigin: consoleUrl });
    await demo.forum.listen({ port: forumPort, host: '127.0.0.1' });
    await demo.console.listen({ port: consolePort, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await demo.close();
    await v.close();
  });

  it('every agent call is refused with the right code; the person\'s post is accepted', async () => {
    const lines: string[] = [];
    const repliesBefore = demo.store.listReplies(1).length;
    const result = await runRogueAgent({ forumUrl, consoleUrl, out: (l) => lines.push(l) });

    expect(result.steps.map((s) => [s.caller, s.status, s.code, s.ok])).toEqual([
      ['agent:forum-helper', 401, 'token_missing', true],
      ['agent:access-helper', 401, 'token_missing', true],
      ['agent:access-helper', 403, 'key_unknown', true],
      ['agent:forum-helper', 400, 'token_malformed', true],
      ['bob (signed in)', 201, null, true],
    ]);
    expect(result.ok).toBe(true);
    expect(result.datasetBefore).toEqual({ visibility: 'team-only', groups: ['payroll-team'] });
    expect(result.datasetAfter).toEqual(result.datasetBefore);
    expect(demo.store.datasetAccess('payroll-2026')?.visibility).toBe('team-only');
    // Only bob's reply landed.
    const replies = demo.store.listReplies(1);
    expect(replies).toHaveLength(repliesBefore + 1);
    expect(replies.at(-1)).toMatchObject({ author: 'bob', kind: 'person' });

    const table = lines.join('\n');
    expect(table).toMatch(/#\s+caller\s+request\s+approval\s+status\s+code\s+outcome/);
    expect(table).toMatch(/agent:access-helper\s+PUT \/api\/datasets\/payroll-2026\/access \(all-employees\)\s+none\s+401\s+token_missing\s+refused ✓/);
    expect(table).toContain('payroll-2026 before: team-only (payroll-team); after: team-only (payroll-team)');
    expect(table).toContain('Every assistant call was refused');
  });

  it('is not ok when the tools do not answer', async () => {
    const lines: string[] = [];
    const port = await freePort();
    const result = await runRogueAgent({ forumUrl: `http://127.0.0.1:${port}`, consoleUrl: `http://127.0.0.1:${port}`, out: (l) => lines.push(l) });
    expect(result.ok).toBe(false);
    expect(result.steps.every((s) => s.status === 0 && s.code === 'unreachable' && !s.ok)).toBe(true);
    expect(lines.join('\n')).toContain('UNEXPECTED');
  });

  it('is not ok when a tool lets an agent through', async () => {
    // A tool without the middleware: it accepts whatever arrives.
    const Fastify = (await import('fastify')).default;
    const open = Fastify();
    open.post('/api/topics/:id/replies', async (_req, reply) => reply.code(201).send({ reply: {} }));
    open.put('/api/datasets/:id/access', async () => ({ visibility: 'all-employees', groups: [] }));
    open.get('/api/datasets/:id/access', async () => ({ visibility: 'team-only', groups: [] }));
    open.post('/login', async (_req, reply) => reply.header('set-cookie', 's=1; Path=/').redirect('/', 303));
    const url = await open.listen({ port: 0, host: '127.0.0.1' });
    try {
      const result = await runRogueAgent({ forumUrl: url, consoleUrl: url });
      expect(result.ok).toBe(false);
      expect(result.steps.slice(0, 4).every((s) => !s.ok)).toBe(true);
    } finally {
      await open.close();
    }
  });
});
