// The admin CLI against a running verifier: every command, and clear errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../server/cli';
import { ADMIN_TOKEN, FORUM_REQUEST, startVerifier } from '../helpers/verifier';
import type { TestVerifier } from '../helpers/verifier';

let v: TestVerifier;
let url: string;
beforeAll(async () => {
  v = await startVerifier('sqlite');
  url = await v.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => v.close());

async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--url', url, ...args], { fetch, out: (l) => out.push(l), err: (l) => err.push(l), env: { COUNTERSIGN_ADMIN_TOKEN: ADMIN_TOKEN } });
  return { code, out, err };
}

describe('admin CLI', () => {
  it('creates an enrollment code', async () => {
    const r = await cli('codes', 'create', '--user', 'alice');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.join('\n'))).toEqual({ code: expect.stringMatching(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/), expiresAt: expect.any(Number) });
  });

  it('registers an agent', async () => {
    const r = await cli('agents', 'put', 'agent:forum-helper', '--owner', 'alice', '--scope', 'forum.post', '--site', 'http://127.0.0.1:8080');
    expect(JSON.parse(r.out.join('\n'))).toEqual({ id: 'agent:forum-helper', owner: 'alice', scopes: ['forum.post'], sites: ['http://127.0.0.1:8080'] });
  });

  it('agent-keys create prints the key once with its id; the key then works; agent-keys revoke ends it', async () => {
    const created = await cli('agent-keys', 'create', 'agent:forum-helper');
    expect(created.code).toBe(0);
    const printed = JSON.parse(created.out.join('\n')) as { agentId: string; keyId: string; key: string };
    expect(printed).toEqual({ agentId: 'agent:forum-helper', keyId: expect.stringMatching(/^agk_/), key: expect.stringMatching(/^csa_[A-Za-z0-9_-]{43}$/) });
    // Once: on standard output, and nowhere else (the hint on standard error does not repeat it).
    expect(created.out.join('\n').split(printed.key)).toHaveLength(2);
    expect(created.err.join('\n')).not.toContain(printed.key);
    expect(created.err.join('\n')).toContain('cannot show it again');
    const me = await fetch(new URL('/v1/agents/me', url), { headers: { authorization: `Bearer ${printed.key}` } });
    expect(await me.json()).toEqual({ agentId: 'agent:forum-helper', keyId: printed.keyId });

    const revoked = await cli('agent-keys', 'revoke', 'agent:forum-helper', printed.keyId);
    expect(revoked).toMatchObject({ code: 0 });
    expect(JSON.parse(revoked.out.join('\n'))).toEqual({ ok: true });
    expect((await fetch(new URL('/v1/agents/me', url), { headers: { authorization: `Bearer ${printed.key}` } })).status).toBe(401);
  });

  it('agent-keys says why it failed: an unregistered agent, an unknown key, a missing argument', async () => {
    expect(await cli('agent-keys', 'create', 'agent:nobody')).toMatchObject({ code: 1, out: [], err: [expect.stringMatching(/^error: not_found: /)] });
    expect(await cli('agent-keys', 'revoke', 'agent:forum-helper', 'agk_nope')).toMatchObject({ code: 1, err: [expect.stringMatching(/^error: not_found: /)] });
    expect((await cli('agent-keys', 'revoke', 'agent:forum-helper')).code).not.toBe(0);
  });

  it('engages and lifts the kill switch, and status shows it', async () => {
    expect((await cli('kill', 'agent', 'agent:forum-helper')).code).toBe(0);
    expect(JSON.parse((await cli('status')).out.join('\n'))).toMatchObject({ killSwitch: { engaged: true, entries: [{ scope: 'agent', target: 'agent:forum-helper' }] } });
    expect(JSON.parse((await cli('unkill', 'agent', 'agent:forum-helper')).out.join('\n'))).toEqual({ lifted: 1 });
    v.clock.now += 1000;
  });

  it('exports one trace as JSON Lines, and revokes a key', async () => {
    const alice = await v.enroll('alice');
    const { token, traceId } = await v.mint(alice);
    await v.verify({ token, request: FORUM_REQUEST });
    const r = await cli('events', '--trace', traceId);
    const lines = r.out.map((l) => JSON.parse(l) as { kind: string; code?: string });
    expect(lines).toEqual([expect.objectContaining({ kind: 'decision', code: 'allow', traceId })]);
    // `--` first: a kid is base64url and may begin with '-', which would read as an option.
    expect((await cli('revoke', '--', alice.kid)).code).toBe(0);
  });

  it('receipt-keys rotate signs new receipts with a new key, the old one still published', async () => {
    const before = (await (await fetch(new URL('/.well-known/jwks.json', url))).json()) as { keys: { kid: string }[] };
    const r = await cli('receipt-keys', 'rotate');
    expect(r.code).toBe(0);
    const { kid } = JSON.parse(r.out.join('\n')) as { kid: string };
    const after = (await (await fetch(new URL('/.well-known/jwks.json', url))).json()) as { keys: { kid: string }[] };
    expect(after.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([kid, ...before.keys.map((k) => k.kid)]));
    expect(before.keys.map((k) => k.kid)).not.toContain(kid);
  });

  it('bots rotate gives a bot a new key, listed among the published bot keys; a bad name is refused', async () => {
    const r = await cli('bots', 'rotate', 'small-replies');
    expect(r.code).toBe(0);
    const { kid } = JSON.parse(r.out.join('\n')) as { kid: string };
    const keys = (await (await fetch(new URL('/v1/policy-bot/keys', url))).json()) as { keys: { kid: string; bot: string; revoked: boolean }[] };
    expect(keys.keys).toContainEqual(expect.objectContaining({ kid, bot: 'small-replies', revoked: false }));
    expect(await cli('bots', 'rotate', 'Not A Name')).toMatchObject({ code: 1, err: [expect.stringMatching(/^error: payload_invalid: /)] });
  });

  it('devices lists a user\'s devices with which can give presence; revoke ends one, its credential with it (a lost authenticator)', async () => {
    const withKey = await v.enroll('ivan');
    const without = await v.enroll('ivan', { credential: false });
    const listed = await cli('devices', 'ivan');
    expect(listed.code).toBe(0);
    const devices = (JSON.parse(listed.out.join('\n')) as { devices: { kid: string; presence: boolean; revokedAt: number | null }[] }).devices;
    expect(devices.map((d) => [d.kid, d.presence, d.revokedAt]).sort()).toEqual([[withKey.kid, true, null], [without.kid, false, null]].sort());
    expect((await cli('revoke', withKey.kid)).code).toBe(0);
    const after = (JSON.parse((await cli('devices', 'ivan')).out.join('\n')) as { devices: { kid: string; revokedAt: number | null }[] }).devices;
    expect(after.find((d) => d.kid === withKey.kid)?.revokedAt).toEqual(expect.any(Number));
    expect((await cli('devices')).code).not.toBe(0);
  });

  it('prints the policy', async () => {
    expect((await cli('policy', 'get')).out.join('\n')).toContain('forbid');
  });

  it('says why it failed: a refused call, a wrong token, a missing argument', async () => {
    const refused = await cli('revoke', 'no-such-kid');
    expect(refused).toMatchObject({ code: 1, err: ['error: not_found: no device with this kid'] });
    const wrong = await runCli(['--url', url, '--token', 'nope', 'status'], { fetch, out: () => {}, err: () => {}, env: {} });
    expect(wrong).toBe(0);
    const unauthorized: string[] = [];
    expect(await runCli(['--url', url, '--token', 'nope', 'revoke', 'x'], { fetch, out: () => {}, err: (l) => unauthorized.push(l), env: {} })).toBe(1);
    expect(unauthorized[0]).toContain('unauthorized');
    expect((await cli('codes', 'create')).code).not.toBe(0);
  });

  it('sets and reads the organisation extension policy from a file; a bad file is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-cli-'));
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ protectedSites: ['http://127.0.0.1:8080/*'], strictMode: true }));
    const set = await cli('extension-policy', 'set', file);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.out.join('\n'))).toMatchObject({ version: 1, policy: { strictMode: true } });
    expect(JSON.parse((await cli('extension-policy', 'get')).out.join('\n'))).toMatchObject({ version: 1 });
    writeFileSync(file, '{ not json');
    const bad = await cli('extension-policy', 'set', file);
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toContain('is not a JSON file');
    writeFileSync(file, JSON.stringify({ verifierUrl: 'https://evil.example' }));
    const refused = await cli('extension-policy', 'set', file);
    expect(refused.code).toBe(1);
    expect(refused.err[0]).toMatch(/payload_invalid: .*verifierUrl/);
  });

  it('never prints the admin token: not in --help, not in an error', async () => {
    const secret = 'sekrit-admin-token-never-shown-42';
    const lines: string[] = [];
    const io = { fetch, out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), env: { COUNTERSIGN_ADMIN_TOKEN: secret } };
    await runCli(['--help'], io);
    await runCli(['--url', 'http://127.0.0.1:1', 'status'], io);
    await runCli(['--url', url, '--token', secret, 'revoke', 'x'], io);
    expect(lines.join('\n')).toContain('COUNTERSIGN_ADMIN_TOKEN');
    expect(lines.join('\n')).not.toContain(secret);
  });
});
