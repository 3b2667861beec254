import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HOST, ORIGIN, head, rawExchange, send, startGatewayWorld } from '../../helpers/gateway';
import type { GatewayWorld } from '../../helpers/gateway';

const EDIT = '/index.php?title=Runbook&action=submit';
const EDIT_BODY = 'wpTextbox1=Rotate+the+key&wpSummary=&wpSave=Save';
const RIGHTS = '/index.php?title=Special:UserRights&user=Bob';
const RIGHTS_BODY = 'user=Bob&wpGroup-sysop=1&saveusergroups=Save';
const ALICE = ['X-Forwarded-User: alice'];

let w: GatewayWorld;
beforeAll(async () => {
  w = await startGatewayWorld();
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => {
  w.upstream.seen.length = 0;
});

describe('gateway: pass-through', () => {
  it('forwards a GET with its path and query exactly, and streams the answer back unchanged', async () => {
    const a = await send(w.port, 'GET', '/index.php?title=Main_Page&x=%C3%A9+a');
    expect(a.status).toBe(200);
    expect(a.body).toBe('GET /index.php?title=Main_Page&x=%C3%A9+a 0');
    expect(a.headers['x-tool']).toBe('yes');
    expect(w.upstream.seen).toHaveLength(1);
    expect(w.upstream.seen[0]!.url).toBe('/index.php?title=Main_Page&x=%C3%A9+a');
  });

  it("forwards a person's unprotected POST byte for byte", async () => {
    const body = 'wpName=Alice&wpPassword=p%26ss&wpLoginAttempt=Log+in';
    const a = await send(w.port, 'POST', '/index.php?title=Special:UserLogin', { body, headers: ALICE });
    expect(a.status).toBe(200);
    expect(w.upstream.seen[0]!.body.toString()).toBe(body);
    expect(w.upstream.seen[0]!.headers['content-length']).toBe(String(body.length));
  });

  it("forwards a person's unprotected chunked body as a stream, whatever its size", async () => {
    const big = 'x'.repeat(200 * 1024); // over the 64 KiB limit of protected routes
    const chunks = `${(big.length / 2).toString(16)}\r\n${big.slice(0, big.length / 2)}\r\n${(big.length / 2).toString(16)}\r\n${big.slice(big.length / 2)}\r\n0\r\n\r\n`;
    const a = await rawExchange(w.port, head('POST', '/upload.php', ['Content-Type: application/octet-stream', 'Transfer-Encoding: chunked']), chunks);
    expect(a.status).toBe(200);
    expect(w.upstream.seen[0]!.body.toString()).toBe(big);
  });

  it("passes a person's edit on an `agents` route without a token", async () => {
    const a = await send(w.port, 'POST', EDIT, { body: EDIT_BODY, headers: ALICE });
    expect(a.status).toBe(200);
    expect(w.upstream.seen[0]!.body.toString()).toBe(EDIT_BODY);
  });

  it('answers 502 upstream_unavailable when the tool is down', async () => {
    const other = await w.another({ upstream: 'http://127.0.0.1:9' });
    const a = await send(other.port, 'GET', '/index.php');
    await other.close();
    expect(a.status).toBe(502);
    expect(a.code).toBe('upstream_unavailable');
  });
});

describe('gateway: approvals on protected routes', () => {
  it('refuses a rights change without a token (requires always), and nothing reaches the tool', async () => {
    const a = await send(w.port, 'POST', RIGHTS, { body: RIGHTS_BODY, headers: ALICE });
    expect(a.status).toBe(401);
    expect(a.code).toBe('token_missing');
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('forwards an approved rights change with the digested bytes, without the approval, with a receipt and the verified user', async () => {
    const token = await w.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:alice', scope: 'wiki.rights' });
    const a = await send(w.port, 'POST', RIGHTS, { body: RIGHTS_BODY, headers: [...ALICE, `Countersign-Approval: ${token}`] });
    expect(a.status).toBe(200);
    const seen = w.upstream.seen[0]!;
    expect(seen.body.toString()).toBe(RIGHTS_BODY);
    expect(seen.headers['countersign-approval']).toBeUndefined();
    expect(seen.headers['x-forwarded-user']).toBe('alice');
    expect(seen.headers['countersign-receipt']).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('attack: the same token twice, and through a second gateway instance (stateless, one verifier): replayed', async () => {
    const token = await w.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:alice', scope: 'wiki.rights' });
    const headers = [...ALICE, `Countersign-Approval: ${token}`];
    expect((await send(w.port, 'POST', RIGHTS, { body: RIGHTS_BODY, headers })).status).toBe(200);
    expect((await send(w.port, 'POST', RIGHTS, { body: RIGHTS_BODY, headers })).code).toBe('replayed');
    const second = await w.another();
    const again = await send(second.port, 'POST', RIGHTS, { body: RIGHTS_BODY, headers });
    await second.close();
    expect(again.code).toBe('replayed');
    expect(w.upstream.seen).toHaveLength(1);
  });

  it('cuts the token out of the form field and forwards the remaining bytes exactly', async () => {
    const token = await w.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:alice', scope: 'wiki.rights' });
    const body = `user=Bob&countersign_approval=${token}&wpGroup-sysop=1&saveusergroups=Save`;
    const a = await send(w.port, 'POST', RIGHTS, { body, headers: ALICE });
    expect(a.status).toBe(200);
    expect(w.upstream.seen[0]!.body.toString()).toBe(RIGHTS_BODY);
    expect(w.upstream.seen[0]!.headers['content-length']).toBe(String(RIGHTS_BODY.length));
  });

  it('cuts the token out of a multipart form (the edit form posts multipart) and forwards the other parts as sent', async () => {
    const b = '----WebKitFormBoundaryQ1w2E3r4';
    const part = (n: string, v: string) => `--${b}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`;
    const without = part('wpTextbox1', 'Rotate the key') + part('wpSave', 'Save') + `--${b}--\r\n`;
    const type = `multipart/form-data; boundary=${b}`;
    const token = await w.approve({ url: EDIT, body: without, contentType: type }, { agent: 'user:alice' });
    const withToken = part('wpTextbox1', 'Rotate the key') + part('countersign_approval', token) + part('wpSave', 'Save') + `--${b}--\r\n`;
    const a = await send(w.port, 'POST', EDIT, { body: withToken, contentType: type, headers: ALICE });
    expect(a.status).toBe(200);
    expect(w.upstream.seen[0]!.body.toString()).toBe(without);
  });

  it('attack: a token for the edit route used on the rights route: action_mismatch, nothing forwarded', async () => {
    const token = await w.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:alice', scope: 'wiki.edit' });
    const a = await send(w.port, 'POST', RIGHTS, { body: RIGHTS_BODY, headers: [...ALICE, `Countersign-Approval: ${token}`] });
    expect(a.code).toBe('action_mismatch');
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('attack: an approved body with one byte changed on the way: action_mismatch', async () => {
    const token = await w.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:alice', scope: 'wiki.rights' });
    const a = await send(w.port, 'POST', RIGHTS, { body: RIGHTS_BODY.replace('Bob', 'Bot'), headers: [...ALICE, `Countersign-Approval: ${token}`] });
    expect(a.code).toBe('action_mismatch');
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('attack: the rights action hidden under PATH_INFO, a repeated title, a folded title or the body: still needs a token', async () => {
    for (const [target, body] of [
      ['/index.php/Special:UserRights/Bob', RIGHTS_BODY],
      ['/index.php?title=Main_Page&title=Special:UserRights', RIGHTS_BODY],
      ['/index.php?title=special:userrights', RIGHTS_BODY],
      ['/index.php', `title=Special%3AUserRights&${RIGHTS_BODY}`],
      ['/index.php?title=Special%3AUserRights', RIGHTS_BODY],
    ] as const) {
      const a = await send(w.port, 'POST', target, { body, headers: ALICE });
      expect(a.code, target).toBe('token_missing');
    }
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('attack: a request readable as an edit and as a rights change is refused outright', async () => {
    const a = await send(w.port, 'POST', '/api.php', { body: 'action=edit&action=userrights&user=Bob&add=sysop', headers: ALICE });
    expect(a.status).toBe(400);
    expect(a.code).toBe('payload_invalid');
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('fails closed when the verifier cannot be asked: 503, nothing forwarded', async () => {
    const other = await w.another({ verifier: 'http://127.0.0.1:9' });
    const token = await w.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:alice', scope: 'wiki.rights' });
    const a = await send(other.port, 'POST', RIGHTS, { body: RIGHTS_BODY, headers: [...ALICE, `Countersign-Approval: ${token}`] });
    await other.close();
    expect(a.status).toBe(503);
    expect(a.code).toBe('verifier_unavailable');
    expect(w.upstream.seen).toHaveLength(0);
  });
});

describe('gateway: identity', () => {
  it('attack: a client that is not the trusted proxy names itself alice: the header never reaches the tool, and it is nobody', async () => {
    const other = await w.another({ identity: { user: { header: 'X-Forwarded-User', trustedProxies: ['10.0.0.7'] }, agents: { header: 'X-Countersign-Agent-Key' } } });
    const token = await w.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:alice', scope: 'wiki.rights' });
    const a = await send(other.port, 'GET', '/index.php', { headers: ['X-Forwarded-User: alice', 'X-Forwarded_User: alice', 'x-forwarded-user: root'] });
    expect(a.status).toBe(200);
    expect(Object.keys(w.upstream.seen[0]!.headers).filter((h) => h.replace(/_/g, '-') === 'x-forwarded-user')).toEqual([]);
    // Nobody vouches for the caller: a token is still verified, bound to no principal, and the tool gets no identity.
    const b = await send(other.port, 'POST', RIGHTS, { body: RIGHTS_BODY, headers: ['X-Forwarded-User: alice', `Countersign-Approval: ${token}`] });
    await other.close();
    expect(b.status).toBe(200);
    expect(w.upstream.seen[1]!.headers['x-forwarded-user']).toBeUndefined();
  });

  it('attack: an underscore spelling of the identity header from the trusted proxy is dropped; the proxy-set one is used', async () => {
    const a = await send(w.port, 'GET', '/index.php', { headers: ['X-Forwarded-User: alice', 'X-Forwarded_User: root'] });
    // Two spellings of one header that a CGI tool reads as one: refused rather than guessed.
    expect(a.status).toBe(400);
    const b = await send(w.port, 'GET', '/index.php', { headers: ['X-Forwarded-User: alice'] });
    expect(b.status).toBe(200);
    expect(w.upstream.seen[0]!.rawHeaders.filter((h) => /^x-forwarded[-_]user$/i.test(h))).toEqual(['x-forwarded-user']);
  });

  it('attack: a spelling of the identity header the proxy did not use (X.Forwarded.User, X-Forwarded_User) is refused even alone: a client header the proxy let through is not its word', async () => {
    for (const spelling of ['X-Forwarded_User', 'X.Forwarded.User', 'x_forwarded.user']) {
      const a = await send(w.port, 'POST', '/api.php', { body: 'action=purge', headers: [`${spelling}: root`] });
      expect(a.code, spelling).toBe('payload_invalid');
    }
    expect(w.upstream.seen).toHaveLength(0);
  });

  it("attack: a person's token for another person (agt user:bob) is refused for alice", async () => {
    const token = await w.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:bob', scope: 'wiki.rights', device: w.bob });
    const a = await send(w.port, 'POST', RIGHTS, { body: RIGHTS_BODY, headers: [...ALICE, `Countersign-Approval: ${token}`] });
    expect(a.code).toBe('action_mismatch');
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('attack: the approval, receipt and agent headers under other spellings never reach the tool', async () => {
    const a = await send(w.port, 'GET', '/index.php', { headers: [...ALICE, 'Countersign_Approval: x.y.z', 'countersign.receipt: forged', 'Countersign_Agent: wiki-helper', 'Countersign.Agent: root'] });
    expect(a.status).toBe(200);
    const names = w.upstream.seen[0]!.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase().replace(/[^a-z0-9]/g, '-'));
    expect(names).not.toContain('countersign-approval');
    expect(names).not.toContain('countersign-receipt');
    expect(names).not.toContain('countersign-agent');
  });

  it('attack: forwarding headers from an untrusted client are dropped (X-Forwarded-Host, Forwarded)', async () => {
    const other = await w.another({ identity: { user: { header: 'X-Forwarded-User', trustedProxies: ['10.0.0.7'] } } });
    await send(other.port, 'GET', '/index.php', { headers: ['X-Forwarded-Host: evil.example', 'Forwarded: host=evil.example', 'X-Real-IP: 10.0.0.1'] });
    await other.close();
    const h = w.upstream.seen[0]!.headers;
    expect([h['x-forwarded-host'], h.forwarded, h['x-real-ip']]).toEqual([undefined, undefined, undefined]);
  });
});

describe('gateway: framing and targets', () => {
  it('forwards a query that does not decode as UTF-8 (a Latin-1 search) byte for byte, and refuses a path that does not decode, in the error shape', async () => {
    const a = await send(w.port, 'GET', '/index.php?search=caf%E9&x=%&y=%ED%A0%80');
    expect(a.status).toBe(200);
    expect(w.upstream.seen.map((s) => s.url)).toEqual(['/index.php?search=caf%E9&x=%&y=%ED%A0%80']);
    const b = await send(w.port, 'GET', '/index.php/%E9t%C3');
    expect([b.status, b.code]).toEqual([400, 'payload_invalid']);
    expect(w.upstream.seen).toHaveLength(1);
  });

  it('attack: a path two readers could take to different scripts (//x, an encoded slash) is refused on any method a route is for', async () => {
    const other = await w.another({ routes: [{ method: '*', path: ['/index.php/**', '/'], query: { action: 'rollback' }, scope: 'wiki.edit' }] });
    for (const target of ['//x?action=rollback', '//index.php?action=rollback', '/index.php%2F..%2Fx?action=rollback']) {
      const a = await send(other.port, 'OPTIONS', target, { headers: ALICE });
      expect([a.status, a.code], target).toEqual([400, 'payload_invalid']);
    }
    await other.close();
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('attack: a method no route can name (PROPFIND, a made-up one) is refused in the error shape, never forwarded', async () => {
    for (const method of ['PROPFIND', 'MKCOL', 'FOO']) {
      const a = await send(w.port, method, '/index.php?title=Special:UserRights', { body: RIGHTS_BODY, headers: ALICE });
      expect([a.status, a.code], method).toEqual([400, 'payload_invalid']);
    }
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('a refusal decided before a large body was read comes whole, after the body (drained, see linger.test.ts), in the error shape', async () => {
    const body = Buffer.alloc(256 * 1024, 'a');
    for (let i = 0; i < 5; i++) {
      const h = head('POST', '/index.php', [`Content-Type: application/x-www-form-urlencoded`, `Content-Length: ${body.length}`], 'evil.example');
      const a = await rawExchange(w.port, h, body);
      expect([a.status, a.code]).toEqual([400, 'payload_invalid']);
    }
  });

  it('attack: an absolute-form target naming another origin is refused; naming ours, only its path is forwarded', async () => {
    const a = await send(w.port, 'GET', 'http://127.0.0.1:1/admin');
    expect(a.status).toBe(400);
    const b = await send(w.port, 'GET', `${ORIGIN}/index.php?title=X`);
    expect(b.status).toBe(200);
    expect(w.upstream.seen.map((s) => s.url)).toEqual(['/index.php?title=X']);
  });

  it('attack: a Host header naming another authority is refused', async () => {
    const a = await send(w.port, 'POST', RIGHTS, { body: RIGHTS_BODY, host: 'evil.example', headers: ALICE });
    expect(a.status).toBe(400);
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('attack: dot segments and encoded dots in a mutating request path are refused (the tool would resolve them)', async () => {
    for (const target of ['/x/../api.php', '/api%2ephp', '/index.php/%2e%2e/api.php', '//api.php']) {
      const a = await send(w.port, 'POST', target, { body: 'action=userrights&user=Bob&add=sysop', headers: ALICE });
      expect(a.status, target).toBe(400);
    }
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('attack: a body over the limit on a protected route is refused while it streams: 413, nothing forwarded', async () => {
    const big = `user=Bob&x=${'a'.repeat(70 * 1024)}`;
    const a = await send(w.port, 'POST', RIGHTS, { body: big, headers: ALICE });
    expect(a.status).toBe(413);
    expect(a.code).toBe('payload_too_large');
    const piece = 'a'.repeat(16 * 1024);
    const chunked = `${Array.from({ length: 6 }, () => `${piece.length.toString(16)}\r\n${piece}\r\n`).join('')}0\r\n\r\n`;
    const b = await rawExchange(w.port, head('POST', RIGHTS, [...ALICE, `Content-Type: text/plain`, 'Transfer-Encoding: chunked']), chunked);
    expect(b.status).toBe(413);
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('attack: a chunked body on a protected route is read whole, digested and forwarded with its length', async () => {
    const token = await w.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:alice', scope: 'wiki.rights' });
    const half = RIGHTS_BODY.length >> 1;
    const chunked = `${half.toString(16)}\r\n${RIGHTS_BODY.slice(0, half)}\r\n${(RIGHTS_BODY.length - half).toString(16)}\r\n${RIGHTS_BODY.slice(half)}\r\n0\r\n\r\n`;
    const a = await rawExchange(w.port, head('POST', RIGHTS, [...ALICE, `Countersign-Approval: ${token}`, 'Content-Type: application/x-www-form-urlencoded', 'Transfer-Encoding: chunked']), chunked);
    expect(a.status).toBe(200);
    expect(w.upstream.seen[0]!.body.toString()).toBe(RIGHTS_BODY);
    expect(w.upstream.seen[0]!.headers['transfer-encoding']).toBeUndefined();
    expect(w.upstream.seen[0]!.headers['content-length']).toBe(String(RIGHTS_BODY.length));
  });

  it('attack: Content-Length with Transfer-Encoding (request smuggling) is refused before anything is forwarded', async () => {
    const smuggled = `0\r\n\r\nPOST /api.php HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\n\r\naction=userrights&user=Bob&x=1`;
    const a = await rawExchange(w.port, head('POST', '/index.php?title=X', ['Content-Type: text/plain', `Content-Length: ${smuggled.length}`, 'Transfer-Encoding: chunked']), smuggled);
    expect(a.status).toBe(400);
    const b = await rawExchange(w.port, head('POST', '/index.php?title=X', ['Content-Type: text/plain', 'Content-Length: 5', 'Content-Length: 6']), 'hello!');
    expect(b.status).toBe(400);
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('attack: a GET with a body is refused (the tool could read a body the gateway ignored)', async () => {
    const a = await rawExchange(w.port, head('GET', '/api.php', ['Content-Type: application/x-www-form-urlencoded', 'Content-Length: 17']), 'action=userrights');
    expect(a.status).toBe(400);
    expect(w.upstream.seen).toHaveLength(0);
  });

  it('Expect: 100-continue over the limit is answered 413 without a 100; within it, 100 then the request', async () => {
    const over = await rawExchange(w.port, head('POST', RIGHTS, [...ALICE, 'Content-Type: application/x-www-form-urlencoded', 'Content-Length: 100000', 'Expect: 100-continue']), 'x', { waitForContinue: true });
    expect(over.heads.map((h) => h.status)).toEqual([413]);
    const token = await w.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:alice', scope: 'wiki.rights' });
    const ok = await rawExchange(
      w.port,
      head('POST', RIGHTS, [...ALICE, `Countersign-Approval: ${token}`, 'Content-Type: application/x-www-form-urlencoded', `Content-Length: ${RIGHTS_BODY.length}`, 'Expect: 100-continue']),
      RIGHTS_BODY,
      { waitForContinue: true },
    );
    expect(ok.heads.map((h) => h.status)).toEqual([100, 200]);
    expect(w.upstream.seen).toHaveLength(1);
    expect(w.upstream.seen[0]!.headers.expect).toBeUndefined();
  });

  it('attack: a multipart body in a shape another parser reads differently is refused on a protected path', async () => {
    const b = 'XyZ';
    const body = `preamble\r\n--${b}\r\nContent-Disposition: form-data; name="action"\r\n\r\nuserrights\r\n--${b}--\r\n`;
    const a = await send(w.port, 'POST', '/api.php', { body, contentType: `multipart/form-data; boundary=${b}`, headers: ALICE });
    expect(a.status).toBe(400);
    const c = await send(w.port, 'POST', '/api.php', { body: 'action=userrights&user=Bob', contentType: 'application/x-www-form-urlencoded, text/plain', headers: ALICE });
    expect(c.status).toBe(400);
    expect(w.upstream.seen).toHaveLength(0);
  });
});

describe('gateway: agents by their Countersign key, with brokered credentials', () => {
  const AGENT_EDIT = '/api.php';
  const editBody = (text: string) => `action=edit&title=Runbook&text=${encodeURIComponent(text)}&token=abc%2B%5C&format=json`;

  it('refuses an agent edit without a token, and nothing reaches the tool', async () => {
    const { key } = await w.agentKey();
    const a = await send(w.port, 'POST', AGENT_EDIT, { body: editBody('Rotate the key'), headers: [`X-Countersign-Agent-Key: ${key}`] });
    expect(a.status).toBe(401);
    expect(a.code).toBe('token_missing');
    expect(w.upstream.seen).toHaveLength(0);
  });

  it("forwards an approved agent edit with the agent's brokered credential instead of its own, and keeps the credential from the client", async () => {
    const { key } = await w.agentKey();
    const body = editBody('Rotate the key');
    const token = await w.approve({ url: AGENT_EDIT, body });
    const a = await send(w.port, 'POST', AGENT_EDIT, { body, headers: [`X-Countersign-Agent-Key: ${key}`, `Countersign-Approval: ${token}`, 'Cookie: agent-own=1', 'X-Forwarded-User: alice'] });
    expect(a.status).toBe(200);
    const seen = w.upstream.seen[0]!;
    expect(seen.body.toString()).toBe(body);
    expect(seen.headers.cookie).toBe('wikidb_session=bot-session-secret-0123456789');
    expect(seen.headers['countersign-agent']).toBe('wiki-helper');
    // An agent never passes as a person, even from the trusted proxy's address.
    expect(seen.headers['x-forwarded-user']).toBeUndefined();
    expect(Object.keys(seen.headers).some((h) => h.includes('agent-key'))).toBe(false);
    // The tool renewed the bot's session: that cookie stays with the gateway.
    expect(a.headers['set-cookie']).toBeUndefined();
    expect(a.body).not.toContain('bot-session-secret');
  });

  it("lets an agent read (GET) with its brokered credential, and refuses its unlisted mutating request: route_not_protected", async () => {
    const { key } = await w.agentKey();
    const read = await send(w.port, 'GET', '/api.php?action=query&meta=tokens&format=json', { headers: [`X-Countersign-Agent-Key: ${key}`] });
    expect(read.status).toBe(200);
    expect(w.upstream.seen[0]!.headers.cookie).toBe('wikidb_session=bot-session-secret-0123456789');
    for (const [method, target, body] of [
      ['POST', '/api.php', 'action=delete&title=Runbook&token=x'],
      ['POST', '/index.php?title=Runbook&action=delete', 'wpConfirmB=Delete'],
      ['PUT', '/rest.php/v1/page/Runbook', '{"source":"x"}'],
      ['DELETE', '/index.php?title=Runbook', ''],
    ] as const) {
      const a = await send(w.port, method, target, { body, headers: [`X-Countersign-Agent-Key: ${key}`], ...(body.startsWith('{') ? { contentType: 'application/json' } : {}) });
      expect(a.code, `${method} ${target}`).toBe('route_not_protected');
      expect(a.status).toBe(403);
    }
    expect(w.upstream.seen).toHaveLength(1);
  });

  it('attack: an agent with a token for wiki.edit changes rights: refused (the scope is the route\'s, and the rights route is not the edit route)', async () => {
    const { key } = await w.agentKey();
    const body = 'action=userrights&user=WikiHelper&add=sysop&token=abc&format=json';
    const token = await w.approve({ url: '/api.php', body }, { scope: 'wiki.edit' });
    const a = await send(w.port, 'POST', '/api.php', { body, headers: [`X-Countersign-Agent-Key: ${key}`, `Countersign-Approval: ${token}`] });
    expect(a.code).toBe('action_mismatch');
    expect(w.upstream.seen).toHaveLength(0);
  });

  it("attack: another agent's token (agt) presented with this agent's key is refused", async () => {
    const { key } = await w.agentKey();
    const body = editBody('x');
    const token = await w.approve({ url: AGENT_EDIT, body }, { agent: 'other-agent' });
    const a = await send(w.port, 'POST', AGENT_EDIT, { body, headers: [`X-Countersign-Agent-Key: ${key}`, `Countersign-Approval: ${token}`] });
    expect(a.code).toBe('action_mismatch');
  });

  it('attack: an unknown, malformed, repeated or revoked agent key is 401, and nothing reaches the tool', async () => {
    const { key, keyId } = await w.agentKey();
    const forged = `csa_${'A'.repeat(43)}`;
    expect((await send(w.port, 'GET', '/index.php', { headers: [`X-Countersign-Agent-Key: ${forged}`] })).code).toBe('unauthorized');
    expect((await send(w.port, 'GET', '/index.php', { headers: ['X-Countersign-Agent-Key: not a key'] })).code).toBe('unauthorized');
    expect((await send(w.port, 'GET', '/index.php', { headers: [`X-Countersign-Agent-Key: ${key}`, `X-Countersign_Agent-Key: ${key}`] })).code).toBe('unauthorized');
    expect((await send(w.port, 'GET', '/index.php', { headers: [`X-Countersign-Agent-Key: ${key}`] })).status).toBe(200);
    expect((await w.v.admin('DELETE', `/v1/admin/agents/wiki-helper/keys/${keyId}`)).statusCode).toBe(200);
    const after = await send(w.port, 'GET', '/index.php', { headers: [`X-Countersign-Agent-Key: ${key}`] });
    expect(after.code).toBe('unauthorized');
    expect(w.upstream.seen).toHaveLength(1);
  });

  it('attack: an agent key under a spelling PHP folds together (X.Countersign.Agent.Key), alone or beside the real one, is refused: it may not pass the tool as some other header', async () => {
    const { key } = await w.agentKey();
    const a = await send(w.port, 'POST', '/index.php?title=Runbook&action=delete', { body: 'wpConfirmB=Delete', headers: [`X.Countersign.Agent.Key: ${key}`] });
    expect([a.status, a.code]).toEqual([401, 'unauthorized']);
    const b = await send(w.port, 'GET', '/index.php', { headers: [`x_countersign.agent-key: ${key}`] });
    expect(b.code).toBe('unauthorized');
    const c = await send(w.port, 'GET', '/index.php', { headers: [`X-Countersign-Agent-Key: ${key}`, `X-Countersign.Agent-Key: ${key}`] });
    expect(c.code).toBe('unauthorized');
    expect(w.upstream.seen).toHaveLength(0);
  });

  it("attack: a session the tool opens for an agent never reaches it, brokered credential or not", async () => {
    const { key } = await w.agentKey();
    const a = await send(w.port, 'GET', '/index.php', { headers: [`X-Countersign-Agent-Key: ${key}`] });
    expect(a.status).toBe(200);
    expect(a.headers['set-cookie']).toBeUndefined();
    const b = await send(w.port, 'GET', '/index.php', { headers: ALICE });
    expect(b.headers['set-cookie']).toBeDefined();
  });

  it('fails closed when the verifier cannot say whose key it is: 503', async () => {
    const { key } = await w.agentKey();
    const other = await w.another({ verifier: 'http://127.0.0.1:9' });
    const a = await send(other.port, 'GET', '/index.php', { headers: [`X-Countersign-Agent-Key: ${key}`] });
    await other.close();
    expect(a.code).toBe('verifier_unavailable');
    expect(w.upstream.seen).toHaveLength(0);
  });
});
