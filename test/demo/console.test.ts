// The Access console behind the Countersign middleware ("always"), against a real verifier: nobody
// changes who can read a dataset without a signed approval, a person's own included; the assistant's
// change is refused and the dataset stays team-only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_ORIGIN, dom, startDemoWorld } from '../helpers/demo-world';
import type { DemoWorld } from '../helpers/demo-world';

const ACCESS = '/api/datasets/payroll-2026/access';
const WIDEN = '{"visibility":"all-employees","groups":["payroll-team"]}';
const TEAM_ONLY = { visibility: 'team-only', groups: ['payroll-team'] };

describe('Access console', () => {
  let w: DemoWorld;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    w = await startDemoWorld();
    alice = await w.signIn('console', 'alice');
    bob = await w.signIn('console', 'bob');
  });
  afterAll(() => w.close());

  const put = (headers: Record<string, string>, payload = WIDEN, url = ACCESS) =>
    w.demo.console.inject({ method: 'PUT', url, headers: { 'content-type': 'application/json', ...headers }, payload });
  const approval = (agent: string, body = WIDEN, device = w.alice) =>
    w.approve(device, { method: 'PUT', url: `${CONSOLE_ORIGIN}${ACCESS}`, contentType: 'application/json', body }, agent, 'admin.acl.write');
  const reset = () => w.demo.store.setDatasetAccess('payroll-2026', { visibility: 'team-only', groups: ['payroll-team'] }, { changedBy: 'test-reset' });

  it('lists datasets and reads access (the adapter\'s "before")', async () => {
    const list = await w.demo.console.inject({ method: 'GET', url: '/api/datasets', headers: { cookie: bob } });
    expect(list.json()).toMatchObject({ datasets: expect.arrayContaining([expect.objectContaining({ id: 'payroll-2026', access: TEAM_ONLY })]) });
    const access = await w.demo.console.inject({ method: 'GET', url: ACCESS, headers: { cookie: bob } });
    expect(access.json()).toEqual(TEAM_ONLY);
    expect((await w.demo.console.inject({ method: 'GET', url: '/api/datasets/nope/access', headers: { cookie: bob } })).statusCode).toBe(404);
    expect((await w.demo.console.inject({ method: 'GET', url: ACCESS })).json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('a person\'s own change without a token → 401 token_missing; the dataset stays team-only', async () => {
    const res = await put({ cookie: alice });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'token_missing' } });
    expect(w.demo.store.datasetAccess('payroll-2026')).toEqual(TEAM_ONLY);
  });

  it('with her own signed approval (agt user:alice) the change is applied and recorded with its receipt', async () => {
    const res = await put({ cookie: alice, 'countersign-approval': await approval('user:alice') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ visibility: 'all-employees', groups: ['payroll-team'] });
    expect(w.demo.store.datasetAccess('payroll-2026')?.visibility).toBe('all-employees');
    const change = w.demo.store.accessHistory('payroll-2026').at(-1)!;
    expect(change).toMatchObject({ changedBy: 'alice', visibility: 'all-employees', receipt: expect.stringMatching(/^ey/) });
    expect((await w.readReceipt(change.receipt!)).claims).toMatchObject({ sub: 'user:alice', apv: 'alice' });
    const history = dom(await w.demo.console.inject({ method: 'GET', url: '/datasets/payroll-2026', headers: { cookie: alice } }));
    expect(history.querySelector('ol.history li:last-child')?.getAttribute('data-countersign-receipt')).toBe(change.receipt);
    reset();
  });

  it('alice\'s approval does not let bob make the change', async () => {
    const res = await put({ cookie: bob, 'countersign-approval': await approval('user:alice') });
    expect(res.json()).toMatchObject({ error: { code: 'action_mismatch' } });
    expect(w.demo.store.datasetAccess('payroll-2026')).toEqual(TEAM_ONLY);
  });

  it('the assistant\'s change without approval is refused and the dataset stays team-only', async () => {
    const callers: Array<Record<string, string>> = [{ 'x-agent-key': 'access-helper-key' }, { 'x-agent-key': 'access-helper-key', 'x-assistant': 'agent:access-helper' }, { cookie: alice, 'x-assistant': 'agent:access-helper' }];
    for (const headers of callers) {
      const res = await put(headers);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'token_missing' } });
    }
    expect(w.demo.store.datasetAccess('payroll-2026')).toEqual(TEAM_ONLY);
    expect(w.demo.store.accessHistory('payroll-2026').filter((c) => c.changedBy !== 'test-reset')).toHaveLength(1);
  });

  it('the suggestion button in alice\'s session needs her approval of the assistant, not of herself', async () => {
    const asHerself = await put({ cookie: alice, 'x-assistant': 'agent:access-helper', 'countersign-approval': await approval('user:alice') });
    expect(asHerself.json()).toMatchObject({ error: { code: 'action_mismatch' } });
    const forAssistant = await put({ cookie: alice, 'x-assistant': 'agent:access-helper', 'countersign-approval': await approval('agent:access-helper') });
    expect(forAssistant.statusCode).toBe(200);
    reset();
  });

  it('the assistant with its owner\'s approval is allowed; bob cannot approve alice\'s assistant', async () => {
    const byBob = await put({ 'x-agent-key': 'access-helper-key', 'countersign-approval': await approval('agent:access-helper', WIDEN, w.bob) });
    expect(byBob.json()).toMatchObject({ error: { code: 'approver_not_authorized' } });
    const byAlice = await put({ 'x-agent-key': 'access-helper-key', 'countersign-approval': await approval('agent:access-helper') });
    expect(byAlice.statusCode).toBe(200);
    expect(w.demo.store.accessHistory('payroll-2026').at(-1)).toMatchObject({ changedBy: 'agent:access-helper' });
    reset();
  });

  it('a token with scp forum.post cannot widen payroll-2026 through the admin.acl.write route (action_mismatch), nor one for the forum\'s host', async () => {
    const forPost = (agent: string) => w.approve(w.alice, { method: 'PUT', url: `${CONSOLE_ORIGIN}${ACCESS}`, contentType: 'application/json', body: WIDEN }, agent, 'forum.post');
    for (const [headers, agent] of [
      [{ 'x-agent-key': 'access-helper-key' }, 'agent:access-helper'],
      [{ cookie: alice }, 'user:alice'],
      [{ cookie: alice, 'x-assistant': 'agent:access-helper' }, 'agent:access-helper'],
    ] as const) {
      const res = await put({ ...headers, 'countersign-approval': await forPost(agent) });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error: { code: 'action_mismatch', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    }
    // The right scope, sent under the forum's Host: the console answers only to its own origin.
    const res = await put({ cookie: alice, host: '127.0.0.1:8080', 'countersign-approval': await approval('user:alice') });
    expect(res.json()).toMatchObject({ error: { code: 'payload_invalid' } });
    expect(w.demo.store.datasetAccess('payroll-2026')).toEqual(TEAM_ONLY);
  });

  it('an invalid change is 400 payload_invalid naming the field, before any approval is spent', async () => {
    const decisions = async () => (await w.v.database.db.selectFrom('decisions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const before = Number(await decisions());
    const invalid = '{"visibility":"public","groups":[]}';
    const bad = await put({ cookie: alice, 'countersign-approval': await approval('user:alice', invalid) }, invalid);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'payload_invalid', message: expect.stringMatching(/^visibility: /) } });
    expect((await put({ cookie: alice }, '{"visibility":"team-only","groups":["Payroll Team"]}')).json()).toMatchObject({ error: { message: expect.stringMatching(/^groups\.0: /) } });
    expect((await put({ cookie: alice }, '{"visibility":"team-only"}')).json()).toMatchObject({ error: { message: expect.stringMatching(/^groups: /) } });
    expect((await put({ cookie: alice }, '{"visibility":"team-only","groups":[],"owner":"bob"}')).json()).toMatchObject({ error: { code: 'payload_invalid' } });
    expect((await put({ cookie: alice }, WIDEN, '/api/datasets/nope/access')).statusCode).toBe(404);
    // The verifier was never asked: no decision recorded, so no approval was consumed.
    expect(Number(await decisions())).toBe(before);
  });

  it('the dataset page: the access form (labelled), the assistant\'s suggestion, and its own script only', async () => {
    const res = await w.demo.console.inject({ method: 'GET', url: '/datasets/payroll-2026', headers: { cookie: alice } });
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    const doc = dom(res);
    const form = doc.querySelector('form#access')!;
    for (const name of ['visibility', 'groups']) {
      const field = form.querySelector(`[name="${name}"]`)!;
      expect(doc.querySelector(`label[for="${field.id}"]`)).not.toBeNull();
    }
    expect(form.querySelector('select[name="visibility"] option[selected]')?.getAttribute('value')).toBe('team-only');
    expect(form.querySelector('input[name="groups"]')?.getAttribute('value')).toBe('payroll-team');
    expect(form.querySelector('button[type="submit"]')?.textContent).toBe('Save access');
    // One status region, ahead of both the form and the suggestion: both report there.
    expect(doc.querySelectorAll('[role="status"]')).toHaveLength(1);
    const suggestion = doc.querySelector('section.suggestion')!;
    expect(suggestion.querySelector('h2')?.textContent).toBe('Assistant suggestion');
    expect(suggestion.textContent).toContain('Make payroll-2026 visible to all employees');
    expect(suggestion.querySelector('button')?.textContent).toBe('Apply suggestion');
    expect(JSON.parse(suggestion.getAttribute('data-suggestion')!)).toEqual({ visibility: 'all-employees', groups: ['payroll-team'] });
    expect([...doc.querySelectorAll('script')].map((s) => s.getAttribute('src'))).toEqual(['/static/console.js']);
    const script = await w.demo.console.inject({ method: 'GET', url: '/static/console.js' });
    expect(script.body).toContain("method: 'PUT'");
    expect(script.body).toContain("'X-Assistant': 'agent:access-helper'");
  });

  it('the dataset list page, and sign-in on the console\'s own host', async () => {
    expect((await w.demo.console.inject({ method: 'GET', url: '/' })).headers.location).toBe('/login?next=%2F');
    const doc = dom(await w.demo.console.inject({ method: 'GET', url: '/', headers: { cookie: bob } }));
    expect(doc.querySelector('ul.datasets a[href="/datasets/payroll-2026"]')?.textContent).toBe('Payroll 2026');
    expect(alice).toMatch(/^access_console_session=/);
  });
});
