// Intraforum behind the Countersign middleware, against a real verifier: sign-in, people's posts
// (JSON and form), assistants' posts with and without their owner's approval, receipts stored and
// rendered, and pages that render any body inert.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentDigest } from '../../lib/protocol';
import type { AddressInfo } from 'node:net';
import { BODY_LIMIT, CONTENT_SECURITY_POLICY } from '../../demo/http';
import { rawRequest, streamedRequest } from '../helpers/middleware';
import { CONSOLE_ORIGIN, FORUM_ORIGIN, dom, startDemoWorld } from '../helpers/demo-world';
import type { DemoWorld } from '../helpers/demo-world';

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';
const REPLIES = '/api/topics/1/replies';

describe('Intraforum', () => {
  let w: DemoWorld;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    w = await startDemoWorld();
    alice = await w.signIn('forum', 'alice');
    bob = await w.signIn('forum', 'bob');
  });
  afterAll(() => w.close());

  const post = (headers: Record<string, string>, payload: string, contentType = JSON_TYPE, url = REPLIES) =>
    w.demo.forum.inject({ method: 'POST', url, headers: { 'content-type': contentType, ...headers }, payload });
  const page = (url: string, cookie = alice) => w.demo.forum.inject({ method: 'GET', url, headers: { cookie } });
  const approval = (body: string, agent = 'agent:forum-helper', contentType = JSON_TYPE) =>
    w.approve(w.alice, { method: 'POST', url: `${FORUM_ORIGIN}${REPLIES}`, contentType, body }, agent, 'forum.post');

  describe('sign-in', () => {
    it('sends a visitor without a session to /login, which offers alice and bob', async () => {
      const res = await w.demo.forum.inject({ method: 'GET', url: '/t/1' });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/login?next=%2Ft%2F1');
      const login = dom(await w.demo.forum.inject({ method: 'GET', url: '/login?next=/t/1' }));
      const options = [...login.querySelectorAll('select#user option')].map((o) => o.getAttribute('value'));
      expect(options).toEqual(['alice', 'bob']);
      expect(login.querySelector('label[for="user"]')?.textContent).toBe('User');
    });

    it('sets an HttpOnly session cookie (a random id) and returns to the page asked for', async () => {
      const res = await w.demo.forum.inject({ method: 'POST', url: '/login', headers: { 'content-type': FORM_TYPE }, payload: 'user=bob&next=%2Ft%2F1' });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/t/1');
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).toMatch(/^intraforum_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
      const home = await page('/', cookie.split(';')[0]);
      expect(home.statusCode).toBe(200);
      expect(dom(home).querySelector('.signout strong')?.textContent).toBe('bob');
    });

    it('refuses the assistant account and unknown users, and never redirects off-site', async () => {
      for (const user of ['assistant', 'mallory', '']) {
        const res = await w.demo.forum.inject({ method: 'POST', url: '/login', headers: { 'content-type': FORM_TYPE }, payload: `user=${user}` });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ error: { code: 'payload_invalid' } });
      }
      const offsite = await w.demo.forum.inject({ method: 'POST', url: '/login', headers: { 'content-type': FORM_TYPE }, payload: 'user=bob&next=//evil.example/' });
      expect(offsite.headers.location).toBe('/');
    });

    it('signing out ends the session server-side', async () => {
      const cookie = await w.signIn('forum', 'bob');
      const out = await w.demo.forum.inject({ method: 'POST', url: '/logout', headers: { cookie } });
      expect(out.statusCode).toBe(303);
      expect((await w.demo.forum.inject({ method: 'GET', url: '/api/topics', headers: { cookie } })).statusCode).toBe(401);
    });

    it('a forum session is not a console session', async () => {
      const res = await w.demo.console.inject({ method: 'GET', url: '/api/datasets', headers: { cookie: alice.replace('intraforum_session', 'access_console_session') } });
      expect(res.statusCode).toBe(401);
    });

    it('an API call with neither session nor agent key is 401 unauthorized, in DESIGN.md\'s shape', async () => {
      for (const req of [
        { method: 'GET' as const, url: '/api/topics' },
        { method: 'POST' as const, url: REPLIES, headers: { 'content-type': JSON_TYPE }, payload: '{"body":"hi"}' },
        { method: 'POST' as const, url: '/api/topics/%31/replies', headers: { 'content-type': JSON_TYPE }, payload: '{"body":"hi"}' },
        { method: 'GET' as const, url: '/api/topics', headers: { 'x-agent-key': 'stolen-guess' } },
      ]) {
        const res = await w.demo.forum.inject(req);
        expect(res.statusCode).toBe(401);
        expect(res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String), traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
      }
    });
  });

  describe('people', () => {
    it('a person\'s JSON post is accepted untouched (no token needed) and rendered', async () => {
      const res = await post({ cookie: bob }, '{"body":"Any news on the payroll access?"}');
      expect(res.statusCode).toBe(201);
      const { reply } = res.json() as { reply: { id: number; author: string; kind: string; receipt: string | null } };
      expect(reply).toMatchObject({ author: 'bob', kind: 'person', receipt: null });
      const article = dom(await page('/t/1')).querySelector(`#post-${reply.id}`)!;
      expect(article.matches('article.post')).toBe(true);
      expect(article.hasAttribute('data-countersign-receipt')).toBe(false);
      expect(article.querySelector('.author')?.textContent).toBe('bob');
      expect(article.querySelector('.post-body')?.textContent).toBe('Any news on the payroll access?');
    });

    it('the HTML form\'s post is accepted: 303 back to the topic for a browser, JSON otherwise', async () => {
      const res = await post({ cookie: alice, accept: 'text/html,application/xhtml+xml' }, 'body=Team-only+stays+team-only.', FORM_TYPE);
      expect(res.statusCode).toBe(303);
      const id = w.demo.store.listReplies(1).at(-1)!.id;
      expect(res.headers.location).toBe(`/t/1#post-${id}`);
      expect(w.demo.store.getReply(id)).toMatchObject({ author: 'alice', kind: 'person', body: 'Team-only stays team-only.', receipt: null });
      const asJson = await post({ cookie: alice }, 'body=Second+thought.', FORM_TYPE);
      expect(asJson.statusCode).toBe(201);
    });

    it('renders a hostile body inert', async () => {
      const hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>" onmouseover="x';
      const res = await post({ cookie: bob }, JSON.stringify({ body: hostile }));
      const { reply } = res.json() as { reply: { id: number } };
      const served = await page('/t/1');
      expect(served.body).toContain('&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;&quot; onmouseover=&quot;x');
      expect(served.body).not.toContain('<img src=x');
      const article = dom(served).querySelector(`#post-${reply.id}`)!;
      expect(article.querySelectorAll('img, script')).toHaveLength(0);
      expect(article.querySelector('.post-body')?.textContent).toBe(hostile);
      expect(served.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    });

    it('checks the reply before anything else: blank, unknown topic, duplicate keys', async () => {
      expect((await post({ cookie: bob }, '{"body":"   "}')).json()).toMatchObject({ error: { code: 'payload_invalid', message: expect.stringContaining('body') } });
      expect((await post({ cookie: bob }, '{"body":"hi"}', JSON_TYPE, '/api/topics/999/replies')).statusCode).toBe(404);
      // JSON.parse would take the last author_kind; the middleware reads none. The tool refuses the document.
      const dup = await post({ cookie: bob }, '{"body":"hi","author_kind":"person","author_kind":"assistant"}');
      expect(dup.statusCode).toBe(400);
      expect(dup.json()).toMatchObject({ error: { code: 'payload_invalid' } });
    });
  });

  describe('assistants', () => {
    it('an agent\'s post without a token → 401 token_missing, and nothing is stored', async () => {
      const before = w.demo.store.listReplies(1).length;
      const res = await post({ 'x-agent-key': 'forum-helper-key' }, '{"body":"Opened payroll-2026 to everyone."}');
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'token_missing' } });
      expect(w.demo.store.listReplies(1)).toHaveLength(before);
    });

    it('an agent\'s post with its owner\'s approval is stored with the receipt and rendered with it', async () => {
      const body = '{"body":"Ask the payroll team for a time-boxed grant.","author_kind":"assistant"}';
      const token = await approval(body);
      const res = await post({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, body);
      expect(res.statusCode).toBe(201);
      const { reply } = res.json() as { reply: { id: number; receipt: string } };
      const stored = w.demo.store.getReply(reply.id)!;
      expect(stored).toMatchObject({ author: 'agent:forum-helper', kind: 'assistant', receipt: reply.receipt, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });

      const article = dom(await page('/t/1')).querySelector(`#post-${reply.id}`)!;
      expect(article.getAttribute('data-countersign-receipt')).toBe(stored.receipt);
      // The account id (policy's assistantAccounts), with its display name beside it.
      expect(article.querySelector('.author')?.textContent).toBe('assistant');
      expect(article.querySelector('.author-name')?.textContent).toBe('Forum assistant (AI)');
      // What a reader's extension checks: signature, issuer, and the rendered text against cdg.
      const { claims } = await w.readReceipt(stored.receipt!, article.querySelector('.post-body')!.textContent!);
      expect(claims).toMatchObject({ sub: 'agent:forum-helper', apv: 'alice', cdg: await contentDigest('Ask the payroll team for a time-boxed grant.') });
    });

    it('the form\'s field gives the receipt its cdg too (content: "body" reads JSON and forms)', async () => {
      const form = 'body=Drafted+by+the+assistant%2C+approved+by+alice.';
      const token = await approval(form, 'agent:forum-helper', FORM_TYPE);
      const res = await post({ 'x-agent-key': 'forum-helper-key' }, `${form}&countersign_approval=${token}`, FORM_TYPE);
      expect(res.statusCode).toBe(201);
      const { reply } = res.json() as { reply: { id: number; body: string; receipt: string } };
      expect(reply.body).toBe('Drafted by the assistant, approved by alice.');
      expect((await w.readReceipt(reply.receipt, reply.body)).claims.cdg).toBe(await contentDigest(reply.body));
    });

    it('a body edited in the database after approval no longer matches its receipt', async () => {
      const body = '{"body":"Payroll stays team-only."}';
      const res = await post({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': await approval(body) }, body);
      const { reply } = res.json() as { reply: { id: number } };
      w.demo.store.updateReplyBody(reply.id, 'Payroll is now open to all employees.');
      const article = dom(await page('/t/1')).querySelector(`#post-${reply.id}`)!;
      const rendered = article.querySelector('.post-body')!.textContent!;
      expect(rendered).toBe('Payroll is now open to all employees.');
      await expect(w.readReceipt(article.getAttribute('data-countersign-receipt')!, rendered)).rejects.toMatchObject({ code: 'action_mismatch' });
    });

    it('a token is single use, and bound to the body it approved', async () => {
      const body = '{"body":"Once."}';
      const token = await approval(body);
      expect((await post({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, body)).statusCode).toBe(201);
      const replay = await post({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, body);
      expect(replay.statusCode).toBe(409);
      expect(replay.json()).toMatchObject({ error: { code: 'replayed' } });
      const swapped = await post({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': await approval(body) }, '{"body":"Twice."}');
      expect(swapped.json()).toMatchObject({ error: { code: 'action_mismatch' } });
    });

    it('a person\'s post with an assistant marker (header or field) needs a token', async () => {
      const body = '{"body":"Posted by the widget.","author_kind":"assistant"}';
      expect((await post({ cookie: alice, 'x-assistant': 'agent:forum-helper' }, '{"body":"Posted by the widget."}')).json()).toMatchObject({ error: { code: 'token_missing' } });
      expect((await post({ cookie: alice }, body)).json()).toMatchObject({ error: { code: 'token_missing' } });
      expect((await post({ cookie: alice }, 'body=hi&author_kind=assistant', FORM_TYPE)).json()).toMatchObject({ error: { code: 'token_missing' } });
    });

    it('the widget\'s post in alice\'s session passes with her approval of the assistant, and is stored as the assistant\'s', async () => {
      const body = '{"body":"Posted by the widget.","author_kind":"assistant"}';
      const res = await post({ cookie: alice, 'x-assistant': 'agent:forum-helper', 'countersign-approval': await approval(body) }, body);
      expect(res.statusCode).toBe(201);
      const { reply } = res.json() as { reply: { id: number } };
      expect(w.demo.store.getReply(reply.id)).toMatchObject({ author: 'alice', kind: 'assistant', receipt: expect.stringMatching(/^ey/) });
      const article = dom(await page('/t/1')).querySelector(`#post-${reply.id}`)!;
      expect(article.querySelector('.author')?.textContent).toBe('assistant');
      expect(article.querySelector('.via')?.textContent).toBe("in alice's session");
      // Her approval naming herself is not an approval of the assistant.
      const self = await w.approve(w.alice, { method: 'POST', url: `${FORUM_ORIGIN}${REPLIES}`, contentType: JSON_TYPE, body }, 'user:alice', 'forum.post');
      expect((await post({ cookie: alice, 'x-assistant': '1', 'countersign-approval': self }, body)).json()).toMatchObject({ error: { code: 'action_mismatch' } });
    });

    it('a token for the console is not a token for the forum', async () => {
      const body = '{"body":"hi"}';
      const token = await w.approve(w.alice, { method: 'POST', url: `${CONSOLE_ORIGIN}${REPLIES}`, contentType: JSON_TYPE, body }, 'agent:forum-helper', 'forum.post');
      expect((await post({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, body)).json()).toMatchObject({ error: { code: 'audience_mismatch' } });
    });
  });

  describe('what is approved is what runs (issue 13)', () => {
    it('a marker field repeated in any position never passes as a person\'s post: refused before any approval is spent, nothing stored', async () => {
      const before = w.demo.store.listReplies(1).length;
      const decisions = async () => Number((await w.v.database.db.selectFrom('decisions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const spent = await decisions();
      for (const form of ['body=hi&author_kind=person&author_kind=assistant', 'author_kind=assistant&author_kind=person&body=hi', 'author_kind=person&body=hi&author_kind=assistant']) {
        // The forum gets every value (an array), never the first or the last: its reply check refuses it.
        const res = await post({ cookie: alice }, form, FORM_TYPE);
        expect(res.json(), form).toMatchObject({ error: { code: 'payload_invalid', message: expect.stringMatching(/^author_kind/) } });
        const signed = await post({ cookie: alice, 'countersign-approval': await approval(form, 'agent:forum-helper', FORM_TYPE) }, form, FORM_TYPE);
        expect(signed.statusCode).toBe(400);
      }
      expect(await decisions()).toBe(spent);
      expect(w.demo.store.listReplies(1)).toHaveLength(before);
      // Once, it marks the post: a token is needed.
      expect((await post({ cookie: alice }, 'author_kind=assistant&body=hi', FORM_TYPE)).json()).toMatchObject({ error: { code: 'token_missing' } });
    });

    it('duplicate JSON keys and a repeated body field are refused before anything is stored', async () => {
      const before = w.demo.store.listReplies(1).length;
      expect((await post({ cookie: bob }, '{"body":"hi","author_kind":"person","author_kind":"assistant"}')).json()).toMatchObject({ error: { code: 'payload_invalid' } });
      expect((await post({ cookie: bob }, 'body=A&body=B', FORM_TYPE)).json()).toMatchObject({ error: { code: 'payload_invalid' } });
      const forAB = await approval('body=A&body=B', 'agent:forum-helper', FORM_TYPE);
      expect((await post({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': forAB }, 'body=B&body=A', FORM_TYPE)).statusCode).toBeGreaterThanOrEqual(400);
      expect(w.demo.store.listReplies(1)).toHaveLength(before);
    });

    it('the forum answers only to its own origin: the console\'s Host, another port or a trailing dot are refused', async () => {
      const body = '{"body":"hi"}';
      for (const host of ['localhost:8081', '127.0.0.1:8081', '127.0.0.1', '127.0.0.1.:8080', 'forum.evil.example']) {
        const res = await post({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': await approval(body), host }, body);
        expect(res.statusCode, host).toBe(400);
        expect(res.json()).toMatchObject({ error: { code: 'payload_invalid', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
      }
    });

    it('URL variants of the reply route do not run it with the canonical token', async () => {
      const body = '{"body":"hi"}';
      for (const url of ['/api/topics/%31/replies', '/%61pi/topics/1/replies', '/api/topics/1/replies?x=1', '/API/topics/1/replies', '/api/topics/1/replies/']) {
        const res = await post({ 'x-agent-key': 'forum-helper-key', 'countersign-approval': await approval(body) }, body, JSON_TYPE, url);
        expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
        expect(['action_mismatch', 'not_found']).toContain((res.json() as { error: { code: string } }).error.code);
      }
    });

    it('96 MiB to the reply route (its limit 64 KiB) is refused with 413 while it streams, the rest never pulled', async () => {
      expect(BODY_LIMIT).toBe(64 * 1024);
      await w.demo.forum.listen({ port: 0, host: '127.0.0.1' });
      const port = (w.demo.forum.server.address() as AddressInfo).port;
      for (const declareLength of [true, false]) {
        const res = await streamedRequest(port, { target: REPLIES, totalBytes: 96 * 1024 * 1024, declareLength, headers: { 'x-agent-key': 'forum-helper-key', 'content-type': JSON_TYPE } });
        expect(res.status).toBe(413);
        expect(res.code).toBe('payload_too_large');
        expect(res.pulledWhenAnswered).toBeLessThan(16 * 1024 * 1024);
      }
      // An absolute-form target naming the console, over the same socket.
      const token = await approval('{"body":"hi"}');
      const absolute = await rawRequest(port, { target: `${CONSOLE_ORIGIN}${REPLIES}`, host: null, headers: { 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, body: '{"body":"hi"}' });
      expect(absolute.status).toBe(400);
      expect(absolute.code).toBe('payload_invalid');
    });
  });

  describe('pages', () => {
    it('the topic page has the reply form, the widget, and runs only its own script', async () => {
      const res = await page('/t/1');
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      const doc = dom(res);
      expect(doc.querySelector('h1')?.textContent).toBe('Payroll dataset access request');
      const form = doc.querySelector('form.reply')!;
      expect(form.getAttribute('method')).toBe('post');
      expect(form.getAttribute('action')).toBe('/api/topics/1/replies');
      const textarea = form.querySelector('textarea[name="body"]')!;
      expect(doc.querySelector(`label[for="${textarea.id}"]`)).not.toBeNull();
      expect(form.querySelector('button[type="submit"]')?.textContent).toBe('Post reply');
      const widget = doc.querySelector('[data-assistant-widget]')!;
      expect(widget.querySelector('button')?.textContent).toBe('Ask the assistant');
      expect(widget.querySelector('textarea[data-assistant-draft]')).not.toBeNull();
      expect(widget.querySelector('[role="status"]')).not.toBeNull();
      expect([...doc.querySelectorAll('script')].map((s) => s.getAttribute('src'))).toEqual(['/static/forum.js']);
      expect([...doc.querySelectorAll('script')].every((s) => s.textContent === '')).toBe(true);
    });

    it('serves the widget script, which posts the draft by itself as JSON with X-Assistant', async () => {
      const res = await w.demo.forum.inject({ method: 'GET', url: '/static/forum.js' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/javascript/);
      expect(res.body).toContain("'X-Assistant': 'agent:forum-helper'");
      expect(res.body).toContain("author_kind: 'assistant'");
      expect((await w.demo.forum.inject({ method: 'GET', url: '/static/../store.ts' })).statusCode).toBe(404);
      expect((await w.demo.forum.inject({ method: 'GET', url: '/static/demo.css' })).headers['content-type']).toMatch(/^text\/css/);
    });

    it('the topic list and the author list (with the assistant account)', async () => {
      const topics = dom(await page('/'));
      expect(topics.querySelector('ul.topics a[href="/t/1"]')?.textContent).toBe('Payroll dataset access request');
      const authors = dom(await page('/authors'));
      const assistant = authors.querySelector('tr[data-account="assistant"]')!;
      expect(assistant.textContent).toContain('Forum assistant (AI)');
      expect(authors.querySelector('tr[data-account="alice"]')).not.toBeNull();
    });

    it('the JSON API lists topics and a topic\'s replies with their receipts', async () => {
      const list = await w.demo.forum.inject({ method: 'GET', url: '/api/topics', headers: { 'x-agent-key': 'forum-helper-key' } });
      expect(list.json()).toMatchObject({ topics: expect.arrayContaining([expect.objectContaining({ id: 1, title: 'Payroll dataset access request' })]) });
      const topic = await w.demo.forum.inject({ method: 'GET', url: '/api/topics/1', headers: { cookie: bob } });
      const { replies } = topic.json() as { replies: Array<{ kind: string; receipt: string | null }> };
      expect(replies.filter((r) => r.kind === 'assistant').every((r) => typeof r.receipt === 'string')).toBe(true);
      expect((await w.demo.forum.inject({ method: 'GET', url: '/api/topics/abc', headers: { cookie: bob } })).statusCode).toBe(404);
    });

    it('a 2,000-post topic is seeded quickly and renders every post', async () => {
      const topic = w.demo.store.createTopic('Benchmark topic');
      const started = performance.now();
      w.demo.store.addPosts(topic.id, 2000);
      expect(performance.now() - started).toBeLessThan(2000);
      const doc = dom(await page(`/t/${topic.id}`));
      expect(doc.querySelectorAll('article.post')).toHaveLength(2000);
    });
  });
});
