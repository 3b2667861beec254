// An agent that holds only its Countersign key edits a real MediaWiki (Debian's 1.39) through the
// gateway's api.php: refused without an approval; with one, the gateway adds the bot's MediaWiki
// session and the edit lands; the key sent straight to the wiki does nothing; and a token for
// wiki.edit changes no rights. Node only (tests; needs the mediawiki, php-sqlite3 and php-cli packages).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfigFile } from '@/server/gateway/config';
import { FORM, ORIGIN, send, startGatewayWorld } from '../../helpers/gateway';
import type { GatewayWorld, RawAnswer } from '../../helpers/gateway';
import { startMediaWiki } from '../../helpers/mediawiki';
import type { MediaWiki } from '../../helpers/mediawiki';

const example = JSON.parse(readFileSync('docs/gateway/mediawiki.json', 'utf8')) as GatewayConfigFile;
const PAGE = 'Runbook';

let wiki: MediaWiki;
let w: GatewayWorld;
let key: string;
let botCookie: string;

beforeAll(async () => {
  wiki = await startMediaWiki({ server: ORIGIN });
  await wiki.createPage(PAGE, 'Rotate the key every quarter.');
  botCookie = await wiki.botSessionCookie();
  w = await startGatewayWorld({ upstream: wiki.url, config: { routes: example.routes, bodyLimit: example.bodyLimit }, env: { WIKI_HELPER_COOKIE: botCookie } });
  key = (await w.agentKey()).key;
}, 60_000);
afterAll(async () => {
  await w?.close();
  await wiki?.stop();
});

const asAgent = (extra: string[] = []) => [`X-Countersign-Agent-Key: ${key}`, ...extra];

/** The bot's CSRF token, read through the gateway with the agent's key alone (the gateway brokers the session). */
async function csrfToken(type = 'csrf'): Promise<string> {
  const answer = await send(w.port, 'GET', `/api.php?action=query&meta=tokens&type=${type}&format=json`, { headers: asAgent() });
  expect(answer.status).toBe(200);
  const tokens = (JSON.parse(answer.body) as { query: { tokens: Record<string, string> } }).query.tokens;
  return tokens[`${type}token`]!;
}

function editBody(text: string, token: string): string {
  return new URLSearchParams({ action: 'edit', title: PAGE, text, summary: 'by the agent', token, format: 'json' }).toString();
}

function apiResult(answer: RawAnswer): Record<string, unknown> {
  return JSON.parse(answer.body) as Record<string, unknown>;
}

describe('an agent edits MediaWiki through the gateway with only its Countersign key', () => {
  it('reads through the gateway as the bot, and no MediaWiki cookie or credential reaches the agent', async () => {
    const answer = await send(w.port, 'GET', '/api.php?action=query&meta=userinfo&format=json', { headers: asAgent() });
    expect((apiResult(answer) as { query: { userinfo: { name: string } } }).query.userinfo.name).toBe('WikiHelper');
    expect(answer.headers['set-cookie']).toBeUndefined();
    const secret = botCookie.split(';').map((c) => c.split('=')[1]).find((v) => v && v.length > 8)!;
    expect(JSON.stringify(answer.headers)).not.toContain(secret);
    expect(answer.body).not.toContain(secret);
  });

  it('is refused without an approval, and the page is unchanged', async () => {
    const body = editBody('The key never needs rotating.', await csrfToken());
    const answer = await send(w.port, 'POST', '/api.php', { body, contentType: FORM, headers: asAgent() });
    expect(answer.status).toBe(401);
    expect(answer.code).toBe('token_missing');
    expect(await wiki.pageText(PAGE)).toBe('Rotate the key every quarter.');
  });

  it("lands with alice's approval: the gateway adds the bot's session, MediaWiki saves exactly the approved text as WikiHelper", async () => {
    const text = 'Rotate the key every month, and after every departure.';
    const body = editBody(text, await csrfToken());
    const token = await w.approve({ url: '/api.php', body, contentType: FORM });
    const answer = await send(w.port, 'POST', '/api.php', { body, contentType: FORM, headers: asAgent([`Countersign-Approval: ${token}`]) });
    expect(answer.status).toBe(200);
    expect((apiResult(answer) as { edit: { result: string } }).edit.result).toBe('Success');
    expect(await wiki.pageText(PAGE)).toBe(text);
    expect((await wiki.latestRevision(PAGE))?.user).toBe('WikiHelper');
    // The same token again: replayed, and nothing more is saved.
    const again = await send(w.port, 'POST', '/api.php', { body, contentType: FORM, headers: asAgent([`Countersign-Approval: ${token}`]) });
    expect(again.code).toBe('replayed');
  });

  it("attack: the agent's key sent straight to MediaWiki does nothing (it is no credential of the wiki)", async () => {
    const before = await wiki.latestRevision(PAGE);
    const res = await fetch(`${wiki.url}/api.php`, {
      method: 'POST',
      headers: { 'content-type': FORM, 'x-countersign-agent-key': key, 'countersign-agent': 'wiki-helper' },
      body: editBody('Straight to the wiki.', '+\\'),
    });
    const result = (await res.json()) as { error?: { code: string }; edit?: unknown };
    expect(result.edit).toBeUndefined();
    expect(result.error?.code).toMatch(/permissiondenied|badtoken|protectedpage|notloggedin/);
    expect((await wiki.latestRevision(PAGE))?.revid).toBe(before?.revid);
  });

  it('attack: a rights change by the agent is refused, even with an approval for wiki.edit of that exact request', async () => {
    const body = new URLSearchParams({ action: 'userrights', user: 'WikiHelper', add: 'sysop|bureaucrat', reason: 'needed', token: await csrfToken('userrights'), format: 'json' }).toString();
    const bare = await send(w.port, 'POST', '/api.php', { body, contentType: FORM, headers: asAgent() });
    expect(bare.code).toBe('token_missing');
    const token = await w.approve({ url: '/api.php', body, contentType: FORM }, { scope: 'wiki.edit' });
    const withEditToken = await send(w.port, 'POST', '/api.php', { body, contentType: FORM, headers: asAgent([`Countersign-Approval: ${token}`]) });
    expect(withEditToken.status).toBe(403);
    expect(withEditToken.code).toBe('action_mismatch');
    expect(await wiki.userGroups('WikiHelper')).toEqual(['bot']);
  });

  it('attack: the agent deletes, moves or edits through index.php or rest.php: route_not_protected or refused, nothing changes', async () => {
    const csrf = await csrfToken();
    const before = await wiki.latestRevision(PAGE);
    const tries: Array<[string, string, string, string]> = [
      ['POST', '/api.php', FORM, new URLSearchParams({ action: 'delete', title: PAGE, token: csrf, format: 'json' }).toString()],
      ['POST', '/api.php', FORM, new URLSearchParams({ action: 'move', from: PAGE, to: 'Gone', token: csrf, format: 'json' }).toString()],
      ['POST', `/index.php?title=${PAGE}&action=delete`, FORM, new URLSearchParams({ wpEditToken: csrf, wpConfirmB: 'Delete' }).toString()],
    ];
    for (const [method, target, type, body] of tries) {
      const answer = await send(w.port, method, target, { body, contentType: type, headers: asAgent() });
      expect(answer.code, target).toBe('route_not_protected');
    }
    const rest = await send(w.port, 'PUT', `/rest.php/v1/page/${PAGE}`, {
      body: JSON.stringify({ source: 'REST edit', comment: 'x', token: csrf, latest: { id: before!.revid } }),
      contentType: 'application/json',
      headers: asAgent(),
    });
    expect(rest.code).toBe('token_missing');
    expect((await wiki.latestRevision(PAGE))?.revid).toBe(before?.revid);
  });
});
