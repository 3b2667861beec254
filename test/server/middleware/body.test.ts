// Attack class: the tool reads a body differently from what was digested (issue 13, item 4). On
// every front door, against the real verifier: duplicate JSON keys, a marker field repeated in any
// position, repeated form fields reordered after approval, the approval given twice; and the handler
// gets exactly the protocol's one parse of the digested bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_KEY, FORM_TYPE, FRAMEWORKS, JSON_TYPE, REPLIES, buildTool, rawRequest, startWorld } from '../../helpers/middleware';
import type { Tool, World } from '../../helpers/middleware';

const agent = { 'x-agent-key': AGENT_KEY };
const BOUNDARY = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
const multipart = (pairs: Array<[string, string]>) =>
  `${pairs.map(([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('')}--${BOUNDARY}--\r\n`;

let world: World;
beforeAll(async () => {
  world = await startWorld('sqlite');
});
afterAll(() => world.close());

describe.each(FRAMEWORKS)('%s: the tool reads exactly what was digested', (framework) => {
  let tool: Tool;
  beforeAll(async () => {
    tool = await buildTool(framework, { verifier: world.inProcess() });
  });
  afterAll(() => tool.close());

  const post = (body: string, headers: Record<string, string>, contentType = JSON_TYPE) => rawRequest(tool.port, { target: REPLIES, headers, contentType, body });

  it('duplicate JSON keys are refused (400 payload_invalid), for a person and for an agent holding a token for those very bytes', async () => {
    const before = tool.handled.length;
    for (const body of [
      '{"body":"hi","author_kind":"person","author_kind":"assistant"}',
      '{"author_kind":"assistant","body":"hi","author_kind":"person"}',
      '{"body":"Approved text.","body":"Something else."}',
      '{"body":"hi","meta":{"by":"a","by":"b"}}',
      '{"body":"hi","author_kind":"person","author_\\u006bind":"assistant"}',
    ]) {
      const person = await post(body, { 'x-user': 'bob' });
      expect(person.status, body).toBe(400);
      expect(person.code).toBe('payload_invalid');
      // No token can be minted for it (the digest refuses it too); a forged claim changes nothing.
      const asAgent = await post(body, { ...agent, 'countersign-approval': await world.approve({ url: REPLIES, body: '{"body":"hi"}' }) });
      expect(asAgent.code).toBe('payload_invalid');
    }
    expect(tool.handled.length).toBe(before);
  });

  it('a repeated marker field marks the request in any position (urlencoded, multipart, JSON array): a person needs a token', async () => {
    const before = tool.handled.length;
    const marked: Array<[string, string]> = [
      ['body=hi&author_kind=person&author_kind=assistant', FORM_TYPE],
      ['author_kind=assistant&author_kind=person&body=hi', FORM_TYPE],
      ['author_kind=person&body=hi&author_kind=person&author_kind=assistant', FORM_TYPE],
      ['body=hi&author_kind=assistant', FORM_TYPE],
      [multipart([['author_kind', 'person'], ['body', 'hi'], ['author_kind', 'assistant']]), MULTIPART],
      [multipart([['author_kind', 'assistant'], ['author_kind', 'person'], ['body', 'hi']]), MULTIPART],
      ['{"body":"hi","author_kind":["person","assistant"]}', JSON_TYPE],
      ['{"body":"hi","author_kind":"assistant"}', JSON_TYPE],
    ];
    for (const [body, type] of marked) {
      const res = await post(body, { 'x-user': 'alice' }, type);
      expect(res.status, body).toBe(401);
      expect(res.code).toBe('token_missing');
    }
    expect(tool.handled.length).toBe(before);
  });

  it('with her approval of the assistant, a repeated marker reaches the handler as every value, in order (never one of them)', async () => {
    const body = 'body=hi&author_kind=person&author_kind=assistant';
    const token = await world.approve({ url: REPLIES, contentType: FORM_TYPE, body });
    const res = await post(body, { 'x-user': 'alice', 'countersign-approval': token }, FORM_TYPE);
    expect(res.status, res.text).toBe(200);
    expect(tool.handled.at(-1)).toMatchObject({ body: { body: 'hi', author_kind: ['person', 'assistant'] }, receipt: expect.stringMatching(/^ey/) });
  });

  it('repeated form fields in another order are another action: the token for tag=a&tag=b does not release tag=b&tag=a', async () => {
    const approved = 'body=hi&tag=a&tag=b';
    for (const reordered of ['body=hi&tag=b&tag=a', 'tag=a&body=hi&tag=b', 'tag=a&tag=b&body=hi', 'body=hi&tag=a', 'body=hi&tag=a&tag=b&tag=a']) {
      const token = await world.approve({ url: REPLIES, contentType: FORM_TYPE, body: approved });
      const res = await post(reordered, { ...agent, 'countersign-approval': token }, FORM_TYPE);
      expect(res.code, reordered).toBe('action_mismatch');
    }
    // The same order runs, and the handler sees that order.
    const token = await world.approve({ url: REPLIES, contentType: FORM_TYPE, body: approved });
    expect((await post(approved, { ...agent, 'countersign-approval': token }, FORM_TYPE)).status).toBe(200);
    expect(tool.handled.at(-1)?.body).toEqual({ body: 'hi', tag: ['a', 'b'] });
  });

  it('a repeated content field: body=A&body=B approved does not release body=B&body=A, and is itself refused (which one would the receipt bind?)', async () => {
    const before = tool.handled.length;
    const token = await world.approve({ url: REPLIES, contentType: FORM_TYPE, body: 'body=A&body=B' });
    expect((await post('body=B&body=A', { ...agent, 'countersign-approval': token }, FORM_TYPE)).code).toBe('action_mismatch');
    const own = await world.approve({ url: REPLIES, contentType: FORM_TYPE, body: 'body=A&body=B' });
    const res = await post('body=A&body=B', { ...agent, 'countersign-approval': own }, FORM_TYPE);
    expect(res.status).toBe(400);
    expect(res.code).toBe('payload_invalid');
    expect(tool.handled.length).toBe(before);
  });

  it('attack: one person\'s approval given twice (field repeated, header repeated) counts once (quorum_not_met); in two spellings (field and header) it is token_malformed; nothing is spent', async () => {
    const before = tool.handled.length;
    const form = 'body=hi';
    const t1 = await world.approve({ url: REPLIES, contentType: FORM_TYPE, body: form });
    const t2 = await world.approve({ url: REPLIES, contentType: FORM_TYPE, body: form });
    const cases: Array<[string, Record<string, string> | Array<[string, string]>, string, string]> = [
      [`${form}&countersign_approval=${t1}&countersign_approval=${t2}`, agent, FORM_TYPE, 'quorum_not_met'],
      [`countersign_approval=${t1}&${form}&countersign_approval=${t1}`, agent, FORM_TYPE, 'quorum_not_met'],
      [`${form}&countersign_approval=${t1}`, { ...agent, 'countersign-approval': t2 }, FORM_TYPE, 'token_malformed'],
      [multipart([['body', 'hi'], ['countersign_approval', t1], ['countersign_approval', t2]]), agent, MULTIPART, 'quorum_not_met'],
      [form, [['x-agent-key', AGENT_KEY], ['Countersign-Approval', t1], ['Countersign-Approval', t2]], FORM_TYPE, 'quorum_not_met'],
      [form, { ...agent, 'countersign-approval': `${t1}, ${t2}` }, FORM_TYPE, 'quorum_not_met'],
      [form, { ...agent, 'countersign-approval': `${t1},,${t2}` }, FORM_TYPE, 'token_malformed'],
    ];
    for (const [body, headers, type, code] of cases) {
      const res = await rawRequest(tool.port, { target: REPLIES, headers, contentType: type, body });
      expect(res.status, body.slice(0, 80)).toBeGreaterThanOrEqual(400);
      expect(res.code, body.slice(0, 80)).toBe(code);
    }
    expect(tool.handled.length).toBe(before);
    // Either token alone is fine: neither was spent above (multipart without files digests as the same form).
    expect((await post(`${form}&countersign_approval=${t1}`, agent, FORM_TYPE)).status).toBe(200);
    expect((await post(multipart([['body', 'hi'], ['countersign_approval', t2]]), agent, MULTIPART)).status).toBe(200);
  });

  it('the handler gets the protocol\'s parse: JSON, a form (no approval field), multipart, text, bytes', async () => {
    const person = { 'x-user': 'bob' };
    const cases: Array<[string | Buffer, string, unknown]> = [
      ['{"body":"hi","n":[1,2,{"deep":null}]}', JSON_TYPE, { body: 'hi', n: [1, 2, { deep: null }] }],
      ['body=hi&tag=x&tag=y&empty=', FORM_TYPE, { body: 'hi', tag: ['x', 'y'], empty: '' }],
      [multipart([['body', 'hi'], ['tag', 'x']]), MULTIPART, { body: 'hi', tag: 'x' }],
      ['plain text, as sent', 'text/plain; charset=utf-8', 'plain text, as sent'],
      [Buffer.from([0, 1, 2, 255]), 'application/octet-stream', { bytes: Buffer.from([0, 1, 2, 255]).toString('base64') }],
    ];
    for (const [body, type, parsed] of cases) {
      const res = await rawRequest(tool.port, { target: REPLIES, headers: person, contentType: type, body });
      expect(res.status, `${type}: ${res.text}`).toBe(200);
      expect(tool.handled.at(-1)?.body).toEqual(parsed);
    }
    const token = await world.approve({ url: REPLIES, contentType: FORM_TYPE, body: 'body=hi' });
    await post(`body=hi&countersign_approval=${token}`, agent, FORM_TYPE);
    expect(tool.handled.at(-1)).toMatchObject({ body: { body: 'hi' }, receipt: expect.stringMatching(/^ey/) });
  });
});
