// Presence attacks at every enforcement point (DESIGN.md, "User presence"): a browser-driving agent
// that clicks Approve gets a token the device key signed but no user-verified assertion; assertions
// replayed on another action, made with verification off, or by a cloned authenticator. Sent to the
// Access console (in-process middleware), through the gateway in front of a MediaWiki-like tool
// (`wiki.rights`), and to `POST /v1/verify` over HTTP; each refused with its code, nothing changed.
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { actionDigest, approvalDraft, mintApprovalToken, newTraceId } from '@/lib/protocol';
import type { ActionRequest, WebAuthnAssertion } from '@/lib/protocol';
import type { DatasetAccess } from '../../demo/store';
import { CONSOLE_ORIGIN, startDemoWorld } from '../helpers/demo-world';
import type { DemoWorld } from '../helpers/demo-world';
import { ORIGIN, send, startGatewayWorld } from '../helpers/gateway';
import type { GatewayWorld } from '../helpers/gateway';
import { FUZZ_RUNS } from '../helpers/fuzz';
import { recordAttacks } from '../helpers/tally';
import type { Device } from '../helpers/verifier';

/** Edited assertions tried at full strength (each one a fresh assertion, token and round trip). */
const PRESENCE_EDIT_RUNS = 10_000;

const ACCESS = '/api/datasets/payroll-2026/access';
const TEAM_ONLY: DatasetAccess = { visibility: 'team-only', groups: ['payroll-team'] };
const AGENT = 'agent:access-helper';
const SCOPE = 'admin.acl.write';

describe('the Access console (in-process middleware)', () => {
  let w: DemoWorld;
  let n = 0;
  beforeAll(async () => {
    w = await startDemoWorld();
  });
  afterAll(() => w.close());
  beforeEach(() => {
    w.demo.store.setDatasetAccess('payroll-2026', TEAM_ONLY, { changedBy: 'test-reset' });
  });

  /** A change of who reads payroll, different each time (so no two approvals are for one action). */
  const widen = (): { body: string; request: ActionRequest } => {
    const body = JSON.stringify({ visibility: 'all-employees', groups: ['payroll-team', `g${++n}`] });
    return { body, request: { method: 'PUT', url: `${CONSOLE_ORIGIN}${ACCESS}`, contentType: 'application/json', body } };
  };
  const put = (body: string, token: string) =>
    w.demo.console.inject({ method: 'PUT', url: ACCESS, headers: { 'content-type': 'application/json', 'x-agent-key': 'access-helper-key', 'countersign-approval': token }, payload: body });
  const mint = (device: Device, request: ActionRequest, o: Parameters<DemoWorld['v']['mint']>[1] = {}) => w.v.mint(device, { request, agent: AGENT, scope: SCOPE, ...o });
  const unchanged = () => expect(w.demo.store.datasetAccess('payroll-2026')).toEqual(TEAM_ONLY);

  it('the owner\'s user-verified approval is allowed (the control: the attacks below fail for their own reason)', async () => {
    const { body, request } = widen();
    const res = await put(body, (await mint(w.alice, request)).token);
    expect(res.statusCode, res.body).toBe(200);
  });

  it('attack: a browser-driving agent clicks Approve without the person: no wa → 403 presence_required, the dataset unchanged', async () => {
    const { body, request } = widen();
    const res = await put(body, (await mint(w.alice, request, { presence: false })).token);
    expect([res.statusCode, res.json().error.code]).toEqual([403, 'presence_required']);
    unchanged();
  });

  it('attack: the same click with user verification off (the authenticator asked for UP only) → presence_invalid', async () => {
    const { body, request } = widen();
    const res = await put(body, (await mint(w.alice, request, { assertion: { uv: false } })).token);
    expect(res.json().error.code).toBe('presence_invalid');
    unchanged();
  });

  it('attack: assertion replayed on another action — the person verified a harmless change, the agent swaps the body → presence_invalid', async () => {
    const harmless = widen();
    const harmful = widen();
    const seen = await mint(w.alice, harmless.request);
    const swapped = await mint(w.alice, harmful.request, { wa: seen.wa! });
    const res = await put(harmful.body, swapped.token);
    expect(res.json().error.code).toBe('presence_invalid');
    unchanged();
  });

  it('attack: assertion made for this action but another token (jti) → presence_invalid', async () => {
    const { body, request } = widen();
    const other = await mint(w.alice, request, { presence: false });
    const res = await put(body, (await mint(w.alice, request, { assertFor: { dig: await actionDigest(request), jti: other.jti, exp: other.exp } })).token);
    expect(res.json().error.code).toBe('presence_invalid');
    unchanged();
  });

  it('attack: cloned authenticator — a copy of the credential, behind on its sign count → presence_invalid', async () => {
    const clone = w.alice.authenticator!.clone();
    const first = widen();
    expect((await put(first.body, (await mint(w.alice, first.request)).token)).statusCode).toBe(200);
    w.demo.store.setDatasetAccess('payroll-2026', TEAM_ONLY, { changedBy: 'test-reset' });
    const stolen = widen();
    const res = await put(stolen.body, (await mint({ ...w.alice, authenticator: clone }, stolen.request)).token);
    expect(res.json().error.code).toBe('presence_invalid');
    unchanged();
  });

  it('attack: an assertion signed by a web page\'s origin (a page that ran the ceremony itself) → presence_invalid', async () => {
    const { body, request } = widen();
    const res = await put(body, (await mint(w.alice, request, { assertion: { origin: CONSOLE_ORIGIN } })).token);
    expect(res.json().error.code).toBe('presence_invalid');
    unchanged();
  });

  it('attack: a forum-post approval (no presence needed) carrying a stolen wa is still checked → presence_invalid', async () => {
    const forum = { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/1/replies', contentType: 'application/json', body: '{"body":"hi","author_kind":"assistant"}' };
    const seen = await mint(w.alice, widen().request);
    const token = (await w.v.mint(w.alice, { request: forum, agent: 'agent:forum-helper', scope: 'forum.post', wa: seen.wa! })).token;
    const res = await w.demo.forum.inject({ method: 'POST', url: '/api/topics/1/replies', headers: { 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, payload: forum.body });
    expect(res.json().error?.code).toBe('presence_invalid');
  });
});

describe('the gateway in front of a wiki (wiki.rights)', () => {
  const RIGHTS = '/index.php?title=Special:UserRights&user=Bob';
  const RIGHTS_BODY = 'user=Bob&wpGroup-sysop=1&saveusergroups=Save';
  const ALICE = ['X-Forwarded-User: alice'];
  let g: GatewayWorld;
  beforeAll(async () => {
    g = await startGatewayWorld();
  });
  afterAll(() => g.close());
  beforeEach(() => {
    g.upstream.seen.length = 0;
  });

  it('a rights change approved with presence reaches the tool', async () => {
    const token = await g.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:alice', scope: 'wiki.rights' });
    const a = await send(g.port, 'POST', RIGHTS, { body: RIGHTS_BODY, headers: [...ALICE, `Countersign-Approval: ${token}`] });
    expect(a.status).toBe(200);
    expect(g.upstream.seen).toHaveLength(1);
  });

  it('attack: a browser-driving agent clicks Approve without the person: no wa → 403 presence_required, nothing reaches the tool', async () => {
    const token = await g.approve({ url: RIGHTS, body: RIGHTS_BODY }, { agent: 'user:alice', scope: 'wiki.rights', presence: false });
    const a = await send(g.port, 'POST', RIGHTS, { body: RIGHTS_BODY, headers: [...ALICE, `Countersign-Approval: ${token}`] });
    expect([a.status, a.code]).toEqual([403, 'presence_required']);
    expect(g.upstream.seen).toHaveLength(0);
  });

  it('attack: assertion replayed on another action (rights for another user) → presence_invalid, nothing reaches the tool', async () => {
    const otherUser = RIGHTS.replace('Bob', 'Mallory');
    const otherBody = RIGHTS_BODY.replace('Bob', 'Mallory');
    const full = (url: string, body: string): ActionRequest => ({ method: 'POST', url: `${ORIGIN}${url}`, contentType: 'application/x-www-form-urlencoded', body });
    const seen = await g.v.mint(g.alice, { request: full(RIGHTS, RIGHTS_BODY), agent: 'user:alice', scope: 'wiki.rights' });
    const swapped = await g.v.mint(g.alice, { request: full(otherUser, otherBody), agent: 'user:alice', scope: 'wiki.rights', wa: seen.wa! });
    const a = await send(g.port, 'POST', otherUser, { body: otherBody, headers: [...ALICE, `Countersign-Approval: ${swapped.token}`] });
    expect(a.code).toBe('presence_invalid');
    expect(g.upstream.seen).toHaveLength(0);
  });
});

describe('POST /v1/verify over HTTP', () => {
  let w: DemoWorld;
  let url: string;
  beforeAll(async () => {
    w = await startDemoWorld();
    url = await w.v.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => w.close());

  const verify = async (token: string, request: ActionRequest) => {
    const res = await fetch(`${url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, request, scope: SCOPE }) });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
  };
  const request: ActionRequest = { method: 'PUT', url: `${CONSOLE_ORIGIN}${ACCESS}`, contentType: 'application/json', body: '{"visibility":"all-employees"}' };

  it('attack: the assertion\'s parts bit-flipped one at a time → presence_invalid each time, and the refusal quotes none of them', async () => {
    for (const part of ['ad', 'cd', 'sig'] as const) {
      const { wa } = await w.v.mint(w.alice, { request, agent: AGENT, scope: SCOPE });
      const bytes = Buffer.from(wa![part], 'base64url');
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      const bent = { ...wa!, [part]: bytes.toString('base64url') };
      const { token } = await w.v.mint(w.alice, { request, agent: AGENT, scope: SCOPE, wa: bent });
      const answer = await verify(token, request);
      expect([answer.status, answer.body.error?.code]).toEqual([403, 'presence_invalid']);
      for (const p of Object.values(bent)) expect(answer.body.error!.message).not.toContain(p);
    }
  });

  it('attack: a device enrolled without an authenticator (the agent enrolled one of its own) cannot approve access changes → presence_required', async () => {
    const agentsOwn = await w.v.enroll('alice', { credential: false });
    const { token } = await w.v.mint(agentsOwn, { request, agent: AGENT, scope: SCOPE });
    expect((await verify(token, request)).body.error?.code).toBe('presence_required');
  });
  it('attack: random edits of a genuine assertion (bits flipped, bytes cut or added, parts swapped) in the very token it was made for are never allowed; an unedited one is, once', async () => {
    const traceId = newTraceId();
    /** A token and the genuine assertion made for exactly it (its own jti and exp). */
    const genuineFor = async () => {
      const draft = approvalDraft({ ttlSeconds: 120, now: w.v.seconds() });
      const wa = await w.alice.authenticator!.assert({ dig: await actionDigest(request), jti: draft.jti, exp: draft.exp });
      const token = (assertion: WebAuthnAssertion) =>
        mintApprovalToken({ privateKey: w.alice.privateKey, kid: w.alice.kid, deviceId: w.alice.deviceId, userId: 'alice', request, agent: AGENT, scope: SCOPE, traceId, ttlSeconds: 120, now: draft.iat, jti: draft.jti, wa: assertion }).then((t) => t.token);
      return { wa, token };
    };
    const parts = ['id', 'ad', 'cd', 'sig'] as const;
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), part: fc.constantFrom(...parts), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('cut' as const), part: fc.constantFrom(...parts), at: fc.nat() }),
      fc.record({ kind: fc.constant('add' as const), part: fc.constantFrom(...parts), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('swap' as const), part: fc.constantFrom(...parts), from: fc.constantFrom(...parts) }),
    );
    let sent = 0;
    let allowed = 0;
    try {
      await fc.assert(
        fc.asyncProperty(edit, async (e) => {
          const { wa, token } = await genuineFor();
          const bytes = Buffer.from(wa[e.part], 'base64url');
          let edited: Buffer;
          if (e.kind === 'flip') {
            edited = Buffer.from(bytes);
            edited[e.at % bytes.length] = edited[e.at % bytes.length]! ^ (1 << e.bit);
          } else if (e.kind === 'cut') edited = bytes.subarray(0, e.at % bytes.length);
          else if (e.kind === 'add') edited = Buffer.concat([bytes, Buffer.from([e.byte])]);
          else edited = Buffer.from(wa[e.from], 'base64url');
          const value = edited.toString('base64url');
          // An unchanged part is no edit; an empty one no device would sign (the claim's schema refuses to mint it).
          if (value === wa[e.part] || value === '') return;
          const answer = await verify(await token({ ...wa, [e.part]: value }), request);
          sent++;
          if (answer.status === 200) allowed++;
          // An edit the claim's schema refuses (an empty or oversized part) is a malformed token: refused by its shape.
          expect(['presence_invalid', 'token_malformed']).toContain(answer.body.error?.code);
        }),
        // Each case is a fresh assertion, a token and a round trip (~4 ms): at full strength 10,000 of them,
        // not the endpoint fuzzers' 100,000, keep the fault suite within CI's time.
        { numRuns: Math.min(FUZZ_RUNS, PRESENCE_EDIT_RUNS) },
      );
    } finally {
      recordAttacks('presence: edited assertions via POST /v1/verify', sent, allowed);
    }
    const { wa, token } = await genuineFor();
    const t = await token(wa);
    const ok = await verify(t, request);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await verify(t, request)).body.error?.code).toBe('replayed');
  });
});
