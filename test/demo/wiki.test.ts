// `npm run demo:wiki` against a real verifier: the wiki comes up behind the gateway, the agent's key
// works through it and only through it, and the organisation's extension policy gains the wiki while
// keeping what was there. Node only (tests; needs the mediawiki packages).
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../demo/free-port';
import { startWikiDemo } from '../../demo/wiki';
import type { WikiDemo } from '../../demo/wiki';
import { ADMIN_TOKEN, startVerifier } from '../helpers/verifier';
import type { TestVerifier } from '../helpers/verifier';

let v: TestVerifier;
let demo: WikiDemo;
beforeAll(async () => {
  v = await startVerifier('sqlite', { now: () => Date.now() });
  await v.admin('PUT', '/v1/admin/extension-policy', { protectedSites: ['http://127.0.0.1:8080/*'], assistantAccounts: ['assistant'] });
  await v.app.listen({ port: 0, host: '127.0.0.1' });
  const verifierUrl = `http://127.0.0.1:${(v.app.server.address() as AddressInfo).port}`;
  demo = await startWikiDemo({ verifierUrl, adminToken: ADMIN_TOKEN, port: await freePort() });
}, 60_000);
afterAll(async () => {
  await demo?.close();
  await v?.close();
});

it('serves the wiki through the gateway, and the agent key reads as the bot there', async () => {
  const page = await fetch(`${demo.origin}/index.php/Runbook`);
  expect(await page.text()).toContain('Rotate the signing key every quarter.');
  const me = await fetch(`${demo.origin}/api.php?action=query&meta=userinfo&format=json`, { headers: { 'x-countersign-agent-key': demo.agentKey } });
  expect(((await me.json()) as { query: { userinfo: { name: string } } }).query.userinfo.name).toBe('WikiHelper');
  const direct = await fetch(`${demo.wiki.url}/api.php?action=query&meta=userinfo&format=json`, { headers: { 'x-countersign-agent-key': demo.agentKey } });
  // Straight to the wiki the key is nothing: an anonymous visitor (formatversion 1 marks it with an `anon` member).
  expect(((await direct.json()) as { query: { userinfo: Record<string, unknown> } }).query.userinfo).toHaveProperty('anon');
});

it("adds the wiki's adapter and site to the organisation policy, keeping the rest", async () => {
  const { policy } = (await v.admin('GET', '/v1/admin/extension-policy')).json() as { policy: { protectedSites: string[]; assistantAccounts: string[]; adapters: Array<{ id: string; match: string[]; agent?: string }> } };
  expect(policy.protectedSites).toEqual(['http://127.0.0.1:8080/*', `${demo.origin}/*`]);
  expect(policy.assistantAccounts).toEqual(['assistant']);
  expect(policy.adapters.map((a) => [a.id, a.match, a.agent])).toEqual([['mediawiki', [`${demo.origin}/*`], 'wiki-helper']]);
});

it('refuses the agent an edit without an approval', async () => {
  const res = await fetch(`${demo.origin}/api.php`, {
    method: 'POST',
    headers: { 'x-countersign-agent-key': demo.agentKey, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'action=edit&title=Runbook&text=never&token=x&format=json',
  });
  expect(res.status).toBe(401);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('token_missing');
});
