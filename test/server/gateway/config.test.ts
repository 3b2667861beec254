import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GatewayConfigError, loadGatewayConfig, parseGatewayConfig } from '@/server/gateway/config';

const GOOD = {
  listen: { host: '127.0.0.1', port: 8090 },
  origin: 'http://wiki.corp.example:8090',
  upstream: 'http://127.0.0.1:8091',
  verifier: 'http://127.0.0.1:8787',
  identity: { user: { header: 'X-Forwarded-User', trustedProxies: ['127.0.0.1'] }, agents: { header: 'X-Countersign-Agent-Key' } },
  routes: [{ method: 'POST', path: '/api.php', body: { action: 'edit' }, scope: 'wiki.edit', content: 'text' }],
  credentials: { 'agent:wiki-helper': { set: { Authorization: 'env:WIKI_HELPER_AUTH' } } },
  bodyLimit: 1048576,
};
const ENV = { WIKI_HELPER_AUTH: 'Bearer s3cret' };

function problem(mutate: (c: Record<string, unknown>) => void, env: Record<string, string> = ENV): string {
  const c = structuredClone(GOOD) as Record<string, unknown>;
  mutate(c);
  try {
    parseGatewayConfig(c, env);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('gateway config', () => {
  it("accepts DESIGN.md's shape and resolves credentials from the environment (header names lower-cased)", () => {
    const config = parseGatewayConfig(GOOD, ENV);
    expect(config.credentials).toEqual({ 'wiki-helper': { authorization: 'Bearer s3cret' } });
    expect(config.routes[0]!.scope).toBe('wiki.edit');
  });

  it.each([
    ['routes.0.method', (c: Record<string, unknown>) => ((c.routes as Array<Record<string, unknown>>)[0]!.method = 'post')],
    ['routes.0.path', (c: Record<string, unknown>) => ((c.routes as Array<Record<string, unknown>>)[0]!.path = 'api.php')],
    ['routes.0.path', (c: Record<string, unknown>) => ((c.routes as Array<Record<string, unknown>>)[0]!.path = '/a/**/b')],
    ['routes.0.scope', (c: Record<string, unknown>) => delete (c.routes as Array<Record<string, unknown>>)[0]!.scope],
    ['routes.0', (c: Record<string, unknown>) => ((c.routes as Array<Record<string, unknown>>)[0]!.extra = 1)],
    ['origin', (c: Record<string, unknown>) => (c.origin = 'http://wiki.corp.example:8090/path')],
    ['upstream', (c: Record<string, unknown>) => (c.upstream = 'ftp://x')],
    ['identity.user.trustedProxies.0', (c: Record<string, unknown>) => ((c.identity as { user: { trustedProxies: string[] } }).user.trustedProxies = ['10.0.0.0/8'])],
    ['identity.user.header', (c: Record<string, unknown>) => ((c.identity as { user: { header: string } }).user.header = 'X Bad')],
    ['credentials.agent:wiki-helper.set.Authorization', (c: Record<string, unknown>) => ((c.credentials as Record<string, { set: Record<string, string> }>)['agent:wiki-helper']!.set.Authorization = 'Bearer literal')],
    ['bodyLimit', (c: Record<string, unknown>) => (c.bodyLimit = 0)],
  ])('names the bad field %s', (field, mutate) => {
    expect(problem(mutate)).toMatch(new RegExp(`^${field.replace(/[.*]/g, '\\$&')}: `));
  });

  it('fails closed when a credential variable is missing from the environment, naming it', () => {
    expect(problem(() => undefined, {})).toBe('credentials.agent:wiki-helper.set.Authorization: the environment has no WIKI_HELPER_AUTH');
  });

  it('attack: a credential with a line break (header injection toward the tool) is refused', () => {
    expect(problem(() => undefined, { WIKI_HELPER_AUTH: 'a\r\nX-Forwarded-User: root' })).toMatch(/line break/);
  });

  it('reports an unreadable or non-JSON file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-gw-'));
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => loadGatewayConfig(join(dir, 'bad.json'), ENV)).toThrow(/not JSON/);
    expect(() => loadGatewayConfig(join(dir, 'missing.json'), ENV)).toThrow(/cannot be read \(ENOENT\)/);
  });

  it('npm run gateway with a bad file names the field and does not start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-gw-'));
    const file = join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify({ ...GOOD, routes: [{ ...GOOD.routes[0], method: 'post' }] }));
    const run = promisify(execFile)('npx', ['tsx', 'server/gateway/main.ts', '--config', file], { env: { ...process.env, ...ENV } });
    const error = await run.then(() => null, (e: { code: number; stderr: string }) => e);
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain('gateway failed to start: routes.0.method: an upper-case HTTP method');
  });
});
