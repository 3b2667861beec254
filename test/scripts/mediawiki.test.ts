// The real-MediaWiki harness (test/helpers/mediawiki.ts, scripts/mediawiki.sh) and the HAProxy auth proxy
// (test/helpers/auth-proxy.ts): a quick check that the wiki the gateway tests stand on is what they assume.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HAPROXY, startAuthProxy } from '../helpers/auth-proxy';
import { MEDIAWIKI_ROOT, startMediaWiki } from '../helpers/mediawiki';
import type { MediaWiki } from '../helpers/mediawiki';

// Installed by .ci/run (and scripts/mediawiki.sh); skipped only off CI on a machine without them.
const missing = !existsSync(`${MEDIAWIKI_ROOT}/maintenance/install.php`) || !existsSync(HAPROXY);
const GATEWAY = 'http://gateway.test:8080';

describe.skipIf(missing && !process.env.CI)('MediaWiki harness', () => {
  let wiki: MediaWiki;
  beforeAll(async () => {
    wiki = await startMediaWiki({ server: GATEWAY });
  }, 60_000);
  afterAll(() => wiki?.stop());

  it('serves pages, CSS and the API, linking to the public origin', async () => {
    const page = await fetch(`${wiki.url}/index.php/Main_Page`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('class="mw-parser-output"');
    const css = await fetch(`${wiki.url}/load.php?lang=en&modules=skins.vector.styles.legacy&only=styles&skin=vector`);
    expect([css.status, css.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
    expect((await fetch(`${wiki.url}/resources/assets/poweredby_mediawiki_88x31.png`)).status).toBe(200);
    expect((await fetch(`${wiki.url}/mw-config/`)).status).toBe(404);
    const redirect = await fetch(`${wiki.url}/index.php?title=main_Page`, { redirect: 'manual' });
    expect(redirect.headers.get('location')).toBe(`${GATEWAY}/index.php/Main_Page`);
  });

  it('has Alice (sysop, bureaucrat), Bob and the bot, and anonymous users cannot edit', async () => {
    expect(await wiki.userGroups('Alice')).toEqual(['bureaucrat', 'interface-admin', 'sysop']);
    expect(await wiki.userGroups('Bob')).toEqual([]);
    expect(await wiki.userGroups('WikiHelper')).toEqual(['bot']);
    const anonymous = await wiki.api({ action: 'edit', title: 'Sandbox', text: 'anonymous', token: '+\\' }, z.object({ error: z.object({ code: z.string() }) }));
    expect(anonymous.error.code).toBe('permissiondenied');
  });

  it('logs the bot in with its bot password, and its api.php edits are its own', async () => {
    const cookie = await wiki.botSessionCookie();
    const token = (await wiki.api({ action: 'query', meta: 'tokens' }, z.object({ query: z.object({ tokens: z.object({ csrftoken: z.string() }) }) }), { cookie })).query.tokens.csrftoken;
    const edit = await wiki.api({ action: 'edit', title: 'Bot page', text: 'Written by the bot.', summary: 'hello', token }, z.object({ edit: z.object({ result: z.string() }) }), { cookie });
    expect(edit.edit.result).toBe('Success');
    expect(await wiki.latestRevision('Bot page')).toMatchObject({ user: 'WikiHelper', comment: 'hello', text: 'Written by the bot.' });
    expect(await wiki.pageText('No such page')).toBeNull();
  });

  it('logs people in with their passwords and seeds pages', async () => {
    const cookie = await wiki.sessionCookie('Bob', wiki.users.bob.password);
    expect((await wiki.api({ action: 'query', meta: 'userinfo' }, z.object({ query: z.object({ userinfo: z.object({ name: z.string() }) }) }), { cookie })).query.userinfo.name).toBe('Bob');
    await wiki.createPage('Seeded', 'Some text.', { user: 'Bob' });
    expect(await wiki.latestRevision('Seeded')).toMatchObject({ user: 'Bob', text: 'Some text.' });
  });
});

describe.skipIf(missing && !process.env.CI)('auth proxy (HAProxy)', () => {
  let backend: Server;
  let seen: IncomingHttpHeaders[] = [];
  let raw: string[][] = [];
  let proxy: Awaited<ReturnType<typeof startAuthProxy>>;
  beforeAll(async () => {
    backend = createServer((req, res) => {
      seen.push(req.headers);
      raw.push(req.rawHeaders.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase()));
      res.end('ok');
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const { port } = backend.address() as { port: number };
    proxy = await startAuthProxy(`http://127.0.0.1:${port}`, ['Alice', 'Bob']);
  });
  afterAll(async () => {
    await proxy?.stop();
    await new Promise((resolve) => backend.close(resolve));
  });

  it("asserts each port's person, whatever the client claims", async () => {
    seen = [];
    raw = [];
    await fetch(`${proxy.urlFor('Alice')}/`);
    for (const claim of ['X-Forwarded-User', 'x-forwarded-user', 'X-Forwarded_User', 'X_FORWARDED_USER', 'X.Forwarded.User']) {
      expect(await (await fetch(`${proxy.urlFor('Bob')}/`, { headers: { [claim]: 'Alice' } })).text()).toBe('ok');
    }
    expect(seen.map((h) => h['x-forwarded-user'])).toEqual(['Alice', 'Bob', 'Bob', 'Bob', 'Bob', 'Bob']);
    for (const names of raw) expect(names.filter((n) => /^x[-_.]forwarded[-_.]user$/.test(n))).toEqual(['x-forwarded-user']);
    expect(() => proxy.urlFor('Mallory')).toThrow(/no port for Mallory/);
  });
});
